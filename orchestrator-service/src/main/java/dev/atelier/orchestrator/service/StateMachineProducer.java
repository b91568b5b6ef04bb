package dev.atelier.orchestrator.service;

import dev.atelier.orchestrator.model.WorkflowStateMachine;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.concurrent.ThreadLocalRandom;

/** Makes the (I/O-free) state machine injectable, with real randomness for retry jitter. */
public class StateMachineProducer {

  @Produces
  @Singleton
  WorkflowStateMachine workflowStateMachine() {
    return new WorkflowStateMachine(() -> ThreadLocalRandom.current().nextDouble());
  }
}
