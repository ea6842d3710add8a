package dev.bosun.controlplane.xds.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.ProtoDurations;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.AuthorizationRequest;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.AuthorizationResponse;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.HttpService;
import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The external authorization providers of the mesh config ({@code extensionProviders} with {@code
 * envoyExtAuthzHttp} or {@code envoyExtAuthzGrpc}) as Envoy's ext_authz filters, checked as istiod
 * checks them: a unique DNS-label name, a port in 1-65535, a service the registry knows ({@code
 * <host>} or {@code <namespace>/<host>}), a known {@code statusOnError}, a {@code pathPrefix}
 * starting with {@code /}, no lone {@code *} header pattern. A provider that fails any check is
 * kept with its problems, so that the policies naming it deny what they match instead of being sent
 * to nowhere.
 */
public final class ExtAuthzProviders {
  /** Istio's prefix of the names of CUSTOM rules, which the ext_authz filters look for. */
  static final String MATCH_PREFIX = "istio-ext-authz";

  /** The stat prefix of the shadow rules that mark a request for ext_authz, Istio's. */
  static final String SHADOW_PREFIX = "istio_ext_authz_";

  /** Envoy's metadata key of the shadow rule that matched. */
  private static final String EFFECTIVE_POLICY = "shadow_effective_policy_id";

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** One provider: what its filters are, or why it cannot be used. */
  public record Provider(
      String name, Optional<ExtAuthz> http, Optional<GrpcService> grpc, List<String> problems) {
    boolean usable() {
      return problems.isEmpty();
    }

    Provider withProblem(String problem) {
      List<String> more = new ArrayList<>(problems);
      more.add(problem);
      return new Provider(name, http, grpc, List.copyOf(more));
    }
  }

  /** No providers: every CUSTOM policy denies what it matches. */
  public static final ExtAuthzProviders NONE = new ExtAuthzProviders(Map.of());

  private final Map<String, Provider> providers;

  private ExtAuthzProviders(Map<String, Provider> providers) {
    this.providers = providers;
  }

  /** The providers of the snapshot's mesh config, read once per snapshot. */
  public static ExtAuthzProviders of(MeshSnapshot snapshot) {
    return snapshot.derived(
        List.of("ext-authz-providers"),
        () -> parse(snapshot.meshConfig().document().path("extensionProviders"), snapshot));
  }

  /** The provider named {@code name}, or empty when the mesh config has none of that name. */
  Optional<Provider> provider(String name) {
    return Optional.ofNullable(providers.get(name));
  }

  /** The names of every provider, for a message about one that is missing. */
  List<String> names() {
    return List.copyOf(new TreeSet<>(providers.keySet()));
  }

  static ExtAuthzProviders parse(JsonNode list, MeshSnapshot snapshot) {
    Map<String, Provider> providers = new HashMap<>();
    for (JsonNode entry : list) {
      String name = entry.path("name").asText("");
      JsonNode http = entry.path("envoyExtAuthzHttp");
      JsonNode grpc = entry.path("envoyExtAuthzGrpc");
      if (name.isEmpty() || (!http.isObject() && !grpc.isObject())) {
        continue; // no policy can name it, or a tracing, logging or metrics provider
      }
      Provider first = providers.get(name);
      if (first != null) {
        providers.put(name, first.withProblem("the provider name is not unique"));
        continue;
      }
      List<String> problems = new ArrayList<>();
      if (!NAME.matcher(name).matches()) {
        problems.add(
            "the name is not a DNS label (expected: at most 63 lowercase letters, digits and"
                + " '-', starting and ending with a letter or digit)");
      }
      providers.put(
          name,
          http.isObject()
              ? http(name, http, snapshot, problems)
              : grpc(name, grpc, snapshot, problems));
    }
    return new ExtAuthzProviders(Map.copyOf(providers));
  }

  private static Provider http(
      String name, JsonNode config, MeshSnapshot snapshot, List<String> problems) {
    Target target = target(config, snapshot, problems);
    Optional<HttpStatus> status = status(config, problems);
    String pathPrefix = config.path("pathPrefix").asText("");
    if (!pathPrefix.isEmpty() && !pathPrefix.startsWith("/")) {
      problems.add("pathPrefix \"" + pathPrefix + "\" does not begin with /");
    }
    for (String field :
        List.of(
            "includeRequestHeadersInCheck",
            "includeHeadersInCheck",
            "headersToDownstreamOnDeny",
            "headersToDownstreamOnAllow",
            "headersToUpstreamOnAllow")) {
      for (JsonNode value : config.path(field)) {
        if (value.asText().equals("*")) {
          problems.add(
              field + ": a lone \"*\" is not supported (expected: a prefix or suffix such as x-*)");
        }
      }
    }
    if (!problems.isEmpty()) {
      return new Provider(name, Optional.empty(), Optional.empty(), List.copyOf(problems));
    }
    HttpService.Builder service =
        HttpService.newBuilder()
            .setPathPrefix(pathPrefix)
            .setServerUri(
                HttpUri.newBuilder()
                    .setUri("http://" + target.host())
                    .setCluster(target.cluster())
                    .setTimeout(timeout(config)));
    List<HeaderValue> additional = new ArrayList<>();
    config
        .path("includeAdditionalHeadersInCheck")
        .fields()
        .forEachRemaining(
            header ->
                additional.add(
                    HeaderValue.newBuilder()
                        .setKey(header.getKey())
                        .setValue(header.getValue().asText(""))
                        .build()));
    additional.sort(java.util.Comparator.comparing(HeaderValue::getKey));
    if (!additional.isEmpty()) {
      service.setAuthorizationRequest(
          AuthorizationRequest.newBuilder().addAllHeadersToAdd(additional));
    }
    if (config.path("headersToUpstreamOnAllow").size() > 0
        || config.path("headersToDownstreamOnDeny").size() > 0
        || config.path("headersToDownstreamOnAllow").size() > 0) {
      AuthorizationResponse.Builder response = AuthorizationResponse.newBuilder();
      headers(config.path("headersToUpstreamOnAllow"))
          .ifPresent(response::setAllowedUpstreamHeaders);
      headers(config.path("headersToDownstreamOnDeny"))
          .ifPresent(response::setAllowedClientHeaders);
      headers(config.path("headersToDownstreamOnAllow"))
          .ifPresent(response::setAllowedClientHeadersOnSuccess);
      service.setAuthorizationResponse(response);
    }
    ExtAuthz.Builder filter =
        ExtAuthz.newBuilder()
            .setHttpService(service)
            .setFailureModeAllow(config.path("failOpen").asBoolean(false))
            .setTransportApiVersion(ApiVersion.V3);
    status.ifPresent(filter::setStatusOnError);
    body(config).ifPresent(filter::setWithRequestBody);
    Optional<ListStringMatcher> allowed = headers(config.path("includeRequestHeadersInCheck"));
    if (allowed.isEmpty()) {
      allowed = headers(config.path("includeHeadersInCheck")); // its deprecated predecessor
    }
    allowed.ifPresent(filter::setAllowedHeaders);
    return checked(name, filter.build(), Optional.empty());
  }

  private static Provider grpc(
      String name, JsonNode config, MeshSnapshot snapshot, List<String> problems) {
    Target target = target(config, snapshot, problems);
    Optional<HttpStatus> status = status(config, problems);
    if (!problems.isEmpty()) {
      return new Provider(name, Optional.empty(), Optional.empty(), List.copyOf(problems));
    }
    GrpcService service =
        GrpcService.newBuilder()
            .setEnvoyGrpc(
                GrpcService.EnvoyGrpc.newBuilder()
                    .setClusterName(target.cluster())
                    .setAuthority(target.host()))
            .setTimeout(timeout(config))
            .build();
    ExtAuthz.Builder filter =
        ExtAuthz.newBuilder()
            .setGrpcService(service)
            .setFailureModeAllow(config.path("failOpen").asBoolean(false))
            .setTransportApiVersion(ApiVersion.V3);
    status.ifPresent(filter::setStatusOnError);
    body(config).ifPresent(filter::setWithRequestBody);
    return checked(name, filter.build(), Optional.of(service));
  }

  /** A provider whose filter Envoy would refuse (a zero {@code maxRequestBytes}) is unusable. */
  private static Provider checked(String name, ExtAuthz filter, Optional<GrpcService> grpc) {
    Optional<String> problem =
        EnvoyValidator.shared()
            .check(httpFilter(new Provider(name, Optional.of(filter), grpc, List.of())));
    return problem.isPresent()
        ? new Provider(
            name,
            Optional.empty(),
            Optional.empty(),
            List.of("its ext_authz filter would be refused by Envoy (" + problem.get() + ")"))
        : new Provider(name, Optional.of(filter), grpc, List.of());
  }

  /** The HTTP filter of a usable provider, enabled only for requests its rules marked. */
  static ExtAuthz httpFilter(Provider provider) {
    return provider.http().orElseThrow().toBuilder()
        .setFilterEnabledMetadata(enabled(AuthorizationFilters.ALLOW_FILTER, provider.name()))
        .build();
  }

  /**
   * The network filter of a usable gRPC provider, enabled only for connections its rules marked;
   * empty for an HTTP provider, which cannot check a connection.
   */
  static Optional<io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz> tcpFilter(
      Provider provider) {
    boolean failOpen = provider.http().map(ExtAuthz::getFailureModeAllow).orElse(false);
    return provider
        .grpc()
        .map(
            grpc ->
                io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.newBuilder()
                    .setStatPrefix(AuthorizationFilters.TCP_STAT_PREFIX)
                    .setGrpcService(grpc)
                    .setFailureModeAllow(failOpen)
                    .setTransportApiVersion(ApiVersion.V3)
                    .setFilterEnabledMetadata(
                        enabled(AuthorizationFilters.NETWORK_FILTER, provider.name()))
                    .build());
  }

  /** Enabled when the RBAC filter's shadow rules matched one of this provider's rules. */
  private static MetadataMatcher enabled(String rbacFilter, String provider) {
    return MetadataMatcher.newBuilder()
        .setFilter(rbacFilter)
        .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(SHADOW_PREFIX + EFFECTIVE_POLICY))
        .setValue(
            ValueMatcher.newBuilder()
                .setStringMatch(
                    StringMatcher.newBuilder().setPrefix(MATCH_PREFIX + "-" + provider)))
        .build();
  }

  private record Target(String host, String cluster) {}

  /** The provider's service and port as the outbound cluster Envoy sends the checks to. */
  private static Target target(JsonNode config, MeshSnapshot snapshot, List<String> problems) {
    int port = config.path("port").asInt(0);
    if (port < 1 || port > 65535) {
      problems.add("port " + config.path("port").asText("(none)") + " is not in 1-65535");
    }
    String service = config.path("service").asText("");
    if (service.isEmpty()) {
      problems.add("service is empty");
      return new Target("", "");
    }
    String[] parts = service.split("/", -1);
    String host = parts.length == 2 ? parts[1] : service;
    Optional<MeshService> found = snapshot.service(host);
    if (found.isEmpty() || (parts.length == 2 && !found.get().namespace().equals(parts[0]))) {
      problems.add("could not find service " + service + " in the service registry");
      return new Target(host, "");
    }
    return new Target(host, "outbound|" + port + "||" + host);
  }

  private static Optional<HttpStatus> status(JsonNode config, List<String> problems) {
    String status = config.path("statusOnError").asText("");
    if (status.isEmpty()) {
      return Optional.empty();
    }
    try {
      StatusCode code = StatusCode.forNumber(Integer.parseInt(status));
      if (code != null && code != StatusCode.Empty) {
        return Optional.of(HttpStatus.newBuilder().setCode(code).build());
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add("statusOnError \"" + status + "\" is not an HTTP status Envoy knows");
    return Optional.empty();
  }

  /** The provider's {@code timeout}, else istiod's default of 600 s. */
  private static com.google.protobuf.Duration timeout(JsonNode config) {
    return ProtoDurations.of(config.path("timeout").asText(null))
        .orElse(com.google.protobuf.Duration.newBuilder().setSeconds(600).build());
  }

  private static Optional<BufferSettings> body(JsonNode config) {
    JsonNode body = config.path("includeRequestBodyInCheck");
    if (!body.isObject()) {
      return Optional.empty();
    }
    return Optional.of(
        BufferSettings.newBuilder()
            .setMaxRequestBytes(body.path("maxRequestBytes").asInt(0))
            .setAllowPartialMessage(body.path("allowPartialMessage").asBoolean(false))
            .setPackAsBytes(body.path("packAsBytes").asBoolean(false))
            .build());
  }

  /** Header name patterns, case-insensitive: exact, {@code x-*} prefix or {@code *-id} suffix. */
  private static Optional<ListStringMatcher> headers(JsonNode names) {
    if (names.size() == 0) {
      return Optional.empty();
    }
    ListStringMatcher.Builder list = ListStringMatcher.newBuilder();
    for (JsonNode name : names) {
      String header = name.asText("");
      StringMatcher.Builder pattern = StringMatcher.newBuilder().setIgnoreCase(true);
      if (header.startsWith("*")) {
        pattern.setSuffix(header.substring(1));
      } else if (header.endsWith("*")) {
        pattern.setPrefix(header.substring(0, header.length() - 1));
      } else {
        pattern.setExact(header);
      }
      list.addPatterns(pattern);
    }
    return Optional.of(list.build());
  }
}
