package dev.atelier.tracking.rest;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Ends an answer that is being streamed by resetting its HTTP/1.1 connection (its HTTP/2 stream):
 * the bytes not yet sent are dropped and the client gets a reset, so a download cut short fails
 * instead of ending like a whole one. (Vert.x's own {@code reset()} on HTTP/1.1 closes the
 * connection only after the queued bytes are written, which waits for a client that stopped
 * reading, and the answer could still get its last chunk.)
 */
final class ConnectionAbort {

  private ConnectionAbort() {}

  static void abort(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2) {
      // A stream of its own: resetting it (RST_STREAM) fails this download and no other.
      request.response().reset();
      return;
    }
    HttpConnection connection = request.connection();
    Channel channel = connection instanceof ConnectionBase base ? base.channel() : null;
    if (channel != null) {
      channel.config().setOption(ChannelOption.SO_LINGER, 0); // a close sends RST, drops the rest
    }
    // Marks the answer closed, which fails the writer's next write or its wait for the client.
    request.response().reset();
    if (channel != null) {
      channel.close(); // now, not once the client has read what is queued
    }
  }
}
