package dev.atelier.gateway.budget;

/**
 * A call names a workflow whose budget another team's calls declared: thrown inside the reservation
 * transaction, so nothing of the call is reserved or changed.
 */
public class WorkflowNotAllowedException extends RuntimeException {

  private final String workflowKey;

  WorkflowNotAllowedException(String workflowKey) {
    super(
        "The budget of workflow "
            + workflowKey
            + " belongs to another team: this key's calls cannot change it or be charged to it",
        null,
        false,
        false);
    this.workflowKey = workflowKey;
  }

  public String workflowKey() {
    return workflowKey;
  }
}
