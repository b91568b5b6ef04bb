package dev.atelier.context.repository;

/**
 * A failed SQL statement, unchecked so that {@code @Transactional} rolls back (it commits on
 * checked exceptions) and the problem mapper answers 500.
 */
public class DataAccessException extends RuntimeException {

  public DataAccessException(String message, Throwable cause) {
    super(message, cause);
  }
}
