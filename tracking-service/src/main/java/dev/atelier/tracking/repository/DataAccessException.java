package dev.atelier.tracking.repository;

/**
 * A failed database operation. Unchecked so that {@code @Transactional} rolls back on it and
 * callers need not thread {@link java.sql.SQLException} through every layer.
 */
public class DataAccessException extends RuntimeException {

  public DataAccessException(String message, Throwable cause) {
    super(message, cause);
  }
}
