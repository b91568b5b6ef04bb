package dev.atelier.gateway.rest;

import dev.atelier.gateway.managed.CredentialCipher;
import dev.atelier.gateway.managed.ManagedProvider;
import dev.atelier.gateway.managed.ManagedProviderRepository;
import dev.atelier.gateway.managed.ManagedProviders;
import dev.atelier.gateway.provider.openai.OpenAiCompatibleProvider;
import dev.atelier.kit.problem.ProblemException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * OpenAI-compatible providers managed at run time; callers reach one as model {@code
 * <name>/<model>}. Keys are write-only: stored encrypted (AES-256-GCM), never returned. Every
 * create or change is validated asynchronously ({@code GET {baseUrl}/models}); {@code status} shows
 * the outcome. Admin key; errors as problem+json.
 */
@Path("/admin/providers")
@Produces(MediaType.APPLICATION_JSON)
public class AdminProviderResource {

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

  private final ManagedProviderRepository repository;
  private final ManagedProviders providers;
  private final CredentialCipher cipher;
  private final AdminAuth admin;

  AdminProviderResource(
      ManagedProviderRepository repository,
      ManagedProviders providers,
      CredentialCipher cipher,
      AdminAuth admin) {
    this.repository = repository;
    this.providers = providers;
    this.cipher = cipher;
    this.admin = admin;
  }

  /** A provider to create ({@code name}, {@code baseUrl} required) or change (all optional). */
  public record ProviderRequest(String name, String baseUrl, String apiKey) {
    @Override
    public String toString() {
      return "ProviderRequest[" + name + ", " + baseUrl + "]";
    }
  }

  /** A provider as shown: whether a key is set, never the key. */
  public record ProviderView(
      String name,
      String baseUrl,
      boolean apiKeySet,
      String status,
      String statusReason,
      Instant checkedAt,
      long revision,
      Instant updatedAt) {
    static ProviderView of(ManagedProvider p) {
      return new ProviderView(
          p.name(),
          p.baseUrl(),
          p.apiKeyEncrypted() != null,
          p.status(),
          p.statusReason(),
          p.checkedAt(),
          p.revision(),
          p.updatedAt());
    }
  }

  @GET
  @Operation(summary = "List managed providers with their validation status")
  public List<ProviderView> list(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization)
      throws SQLException {
    admin.require(authorization);
    return repository.findAll().stream().map(ProviderView::of).toList();
  }

  @GET
  @Path("/{name}")
  @Operation(summary = "One managed provider")
  public ProviderView get(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @PathParam("name") String name)
      throws SQLException {
    admin.require(authorization);
    return repository
        .find(name)
        .map(ProviderView::of)
        .orElseThrow(() -> ProblemException.notFound("provider", name));
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Add an OpenAI-compatible provider; validated asynchronously")
  public Response create(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, ProviderRequest request)
      throws SQLException {
    admin.require(authorization);
    if (request == null) {
      throw ProblemException.badRequest("invalid-provider", "a JSON body is required");
    }
    String name = name(request.name());
    String baseUrl = baseUrl(request.baseUrl(), true);
    byte[] sealed = seal(request.apiKey(), name);
    ManagedProvider p =
        repository
            .insert(name, baseUrl, sealed)
            .orElseThrow(
                () ->
                    ProblemException.conflict(
                        "provider-exists", "a provider named '" + name + "' already exists"));
    applied(p);
    return Response.created(URI.create("/admin/providers/" + name))
        .entity(ProviderView.of(p))
        .build();
  }

  @PUT
  @Path("/{name}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Change a provider's base URL and/or key; validated again")
  public ProviderView update(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @PathParam("name") String name,
      ProviderRequest request)
      throws SQLException {
    admin.require(authorization);
    if (request == null || (request.baseUrl() == null && request.apiKey() == null)) {
      throw ProblemException.badRequest("invalid-provider", "give 'baseUrl' and/or 'apiKey'");
    }
    String baseUrl = baseUrl(request.baseUrl(), false);
    byte[] sealed = seal(request.apiKey(), name);
    ManagedProvider p =
        repository
            .update(name, baseUrl, sealed)
            .orElseThrow(() -> ProblemException.notFound("provider", name));
    applied(p);
    return ProviderView.of(p);
  }

  @DELETE
  @Path("/{name}")
  @Operation(summary = "Remove a managed provider")
  public void delete(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @PathParam("name") String name)
      throws SQLException {
    admin.require(authorization);
    if (!repository.delete(name)) {
      throw ProblemException.notFound("provider", name);
    }
    providers.refresh();
  }

  private void applied(ManagedProvider p) {
    providers.refresh();
    providers.validate(p);
  }

  private byte[] seal(String apiKey, String name) {
    if (apiKey == null) {
      return null;
    }
    if (!OpenAiCompatibleProvider.usableKey(apiKey)) {
      // Never echo the key: the problem names the rule only.
      throw ProblemException.badRequest(
          "invalid-provider",
          "'apiKey' must be 1-4096 printable ASCII characters, without whitespace or line breaks");
    }
    if (!cipher.available()) {
      throw new ProblemException(
          409,
          "encryption-key-missing",
          "Credentials cannot be stored",
          "set GATEWAY_ENCRYPTION_KEY (base64 of 32 bytes) to store provider keys");
    }
    return cipher.encrypt(apiKey, name);
  }

  private static String name(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw ProblemException.badRequest(
          "invalid-provider", "'name' must match [a-z0-9][a-z0-9_-]{0,62}");
    }
    if (name.equals(OpenAiCompatibleProvider.NAME) || name.equals("simulated")) {
      throw ProblemException.badRequest(
          "invalid-provider", "'" + name + "' is a built-in provider name");
    }
    return name;
  }

  private static String baseUrl(String baseUrl, boolean required) {
    if (baseUrl == null) {
      if (required) {
        throw ProblemException.badRequest("invalid-provider", "'baseUrl' is required");
      }
      return null;
    }
    try {
      URI uri = URI.create(baseUrl);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null
          || uri.getRawUserInfo() != null
          || uri.getRawQuery() != null) {
        throw new IllegalArgumentException();
      }
      return baseUrl.replaceAll("/+$", "");
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest(
          "invalid-provider",
          "'baseUrl' must be an http(s) URL such as https://api.groq.com/openai/v1");
    }
  }
}
