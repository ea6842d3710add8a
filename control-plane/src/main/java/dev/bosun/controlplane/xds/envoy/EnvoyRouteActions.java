package dev.bosun.controlplane.xds.envoy;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.fabric8.istio.api.api.networking.v1alpha3.Destination;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPDirectResponse;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPMirrorPolicy;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRedirect;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRedirectPort;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRewrite;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.Headers;
import io.fabric8.istio.api.api.networking.v1alpha3.HeadersHeaderOperations;
import io.fabric8.istio.api.api.networking.v1alpha3.Percent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The route actions only Envoy implements: redirects, direct responses, rewrites, headers, mirrors.
 */
public final class EnvoyRouteActions {
  private EnvoyRouteActions() {}

  public static RedirectAction redirect(HTTPRedirect redirect) {
    RedirectAction.Builder built = RedirectAction.newBuilder();
    if (redirect.getUri() != null) {
      built.setPathRedirect(redirect.getUri());
    }
    if (redirect.getAuthority() != null) {
      built.setHostRedirect(redirect.getAuthority());
    }
    if (redirect.getScheme() != null) {
      built.setSchemeRedirect(redirect.getScheme());
    }
    if (redirect.getRedirectPort() instanceof HTTPRedirectPort port && port.getPort() != null) {
      built.setPortRedirect(port.getPort().intValue());
    }
    int code = redirect.getRedirectCode() == null ? 301 : redirect.getRedirectCode().intValue();
    built.setResponseCode(
        switch (code) {
          case 302 -> RedirectAction.RedirectResponseCode.FOUND;
          case 303 -> RedirectAction.RedirectResponseCode.SEE_OTHER;
          case 307 -> RedirectAction.RedirectResponseCode.TEMPORARY_REDIRECT;
          case 308 -> RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT;
          default -> RedirectAction.RedirectResponseCode.MOVED_PERMANENTLY;
        });
    return built.build();
  }

  public static DirectResponseAction directResponse(HTTPDirectResponse response) {
    DirectResponseAction.Builder built =
        DirectResponseAction.newBuilder()
            .setStatus(response.getStatus() == null ? 200 : response.getStatus().intValue());
    if (response.getBody() != null && response.getBody().getSpecifier() != null) {
      Object body = response.getBody().getSpecifier();
      if (body instanceof io.fabric8.istio.api.api.networking.v1alpha3.HTTPBodyString string) {
        built.setBody(DataSource.newBuilder().setInlineString(string.getString()));
      } else if (body instanceof io.fabric8.istio.api.api.networking.v1alpha3.HTTPBodyBytes bytes) {
        built.setBody(
            DataSource.newBuilder()
                .setInlineBytes(
                    com.google.protobuf.ByteString.copyFrom(
                        java.util.Base64.getDecoder().decode(bytes.getBytes()))));
      }
    }
    return built.build();
  }

  public static void rewrite(HTTPRewrite rewrite, RouteAction.Builder action) {
    if (rewrite == null) {
      return;
    }
    if (rewrite.getUri() != null) {
      action.setPrefixRewrite(rewrite.getUri());
    }
    if (rewrite.getUriRegexRewrite() != null && rewrite.getUriRegexRewrite().getMatch() != null) {
      action.setRegexRewrite(
          RegexMatchAndSubstitute.newBuilder()
              .setPattern(
                  RegexMatcher.newBuilder().setRegex(rewrite.getUriRegexRewrite().getMatch()))
              .setSubstitution(
                  rewrite.getUriRegexRewrite().getRewrite() == null
                      ? ""
                      : rewrite.getUriRegexRewrite().getRewrite()));
    }
    if (rewrite.getAuthority() != null) {
      action.setHostRewriteLiteral(rewrite.getAuthority());
    }
  }

  public static void mirrors(
      HTTPRoute route,
      String namespace,
      int port,
      BiFunction<String, String, String> qualify,
      RouteAction.Builder action) {
    List<HTTPMirrorPolicy> policies = new ArrayList<>();
    if (route.getMirror() != null) {
      HTTPMirrorPolicy single = new HTTPMirrorPolicy();
      single.setDestination(route.getMirror());
      // mirrorPercentage, else the deprecated mirrorPercent (or its proto spelling mirror_percent).
      Object protoSpelling = route.getAdditionalProperties().get("mirror_percent");
      Number percent =
          route.getMirrorPercent() != null
              ? route.getMirrorPercent()
              : protoSpelling instanceof Number number ? number : null;
      single.setPercentage(
          route.getMirrorPercentage() != null
              ? route.getMirrorPercentage()
              : percent != null ? new Percent(percent.doubleValue()) : null);
      policies.add(single);
    }
    if (route.getMirrors() != null) {
      policies.addAll(route.getMirrors());
    }
    for (HTTPMirrorPolicy policy : policies) {
      Destination destination = policy.getDestination();
      int mirrorPort =
          destination.getPort() != null && destination.getPort().getNumber() != null
              ? destination.getPort().getNumber().intValue()
              : port;
      RouteAction.RequestMirrorPolicy.Builder mirror =
          RouteAction.RequestMirrorPolicy.newBuilder()
              .setCluster(
                  EnvoyNames.outboundCluster(
                      mirrorPort,
                      destination.getSubset(),
                      qualify.apply(destination.getHost(), namespace)));
      if (policy.getPercentage() != null && policy.getPercentage().getValue() != null) {
        mirror.setRuntimeFraction(
            RuntimeFractionalPercent.newBuilder()
                .setDefaultValue(
                    FractionalPercent.newBuilder()
                        .setNumerator((int) Math.round(policy.getPercentage().getValue() * 10_000))
                        .setDenominator(FractionalPercent.DenominatorType.MILLION)));
      }
      action.addRequestMirrorPolicies(mirror);
    }
  }

  public static final String CORS_FILTER = "envoy.filters.http.cors";

  /** A VirtualService CORS policy as the CORS filter's per-route config. */
  public static io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy cors(
      io.fabric8.istio.api.api.networking.v1alpha3.CorsPolicy cors) {
    var built = io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.newBuilder();
    if (cors.getAllowOrigins() != null) {
      for (var origin : cors.getAllowOrigins()) {
        Object type = origin.getMatchType();
        var matcher = io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder();
        if (type instanceof io.fabric8.istio.api.api.networking.v1alpha3.StringMatchExact exact) {
          matcher.setExact(exact.getExact());
        } else if (type
            instanceof io.fabric8.istio.api.api.networking.v1alpha3.StringMatchPrefix prefix) {
          matcher.setPrefix(prefix.getPrefix());
        } else if (type
            instanceof io.fabric8.istio.api.api.networking.v1alpha3.StringMatchRegex regex) {
          matcher.setSafeRegex(RegexMatcher.newBuilder().setRegex(regex.getRegex()));
        } else {
          continue;
        }
        built.addAllowOriginStringMatch(matcher);
      }
    }
    if (cors.getAllowOrigin() != null) {
      cors.getAllowOrigin()
          .forEach(
              o ->
                  built.addAllowOriginStringMatch(
                      io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder().setExact(o)));
    }
    if (cors.getAllowMethods() != null) {
      built.setAllowMethods(String.join(",", cors.getAllowMethods()));
    }
    if (cors.getAllowHeaders() != null) {
      built.setAllowHeaders(String.join(",", cors.getAllowHeaders()));
    }
    if (cors.getExposeHeaders() != null) {
      built.setExposeHeaders(String.join(",", cors.getExposeHeaders()));
    }
    if (cors.getMaxAge() != null) {
      dev.bosun.crd.validation.Durations.parse(cors.getMaxAge())
          .ifPresent(d -> built.setMaxAge(Long.toString(d.getSeconds())));
    }
    if (cors.getAllowCredentials() != null) {
      built.setAllowCredentials(com.google.protobuf.BoolValue.of(cors.getAllowCredentials()));
    }
    return built.build();
  }

  /** Istio's query parameter match; an empty match means "present". */
  public static io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher queryParameter(
      String name, io.fabric8.istio.api.api.networking.v1alpha3.StringMatch match) {
    var built =
        io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher.newBuilder().setName(name);
    Object type = match == null ? null : match.getMatchType();
    if (type instanceof io.fabric8.istio.api.api.networking.v1alpha3.StringMatchExact exact) {
      built.setStringMatch(
          io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
              .setExact(exact.getExact()));
    } else if (type
        instanceof io.fabric8.istio.api.api.networking.v1alpha3.StringMatchPrefix prefix) {
      built.setStringMatch(
          io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
              .setPrefix(prefix.getPrefix()));
    } else if (type
        instanceof io.fabric8.istio.api.api.networking.v1alpha3.StringMatchRegex regex) {
      built.setStringMatch(
          io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
              .setSafeRegex(RegexMatcher.newBuilder().setRegex(regex.getRegex())));
    } else {
      built.setPresentMatch(true);
    }
    return built.build();
  }

  /** Per-destination header operations, on the weighted cluster they belong to. */
  public static void destinationHeaders(
      Headers headers,
      io.envoyproxy.envoy.config.route.v3.WeightedCluster.ClusterWeight.Builder cluster) {
    apply(
        headers,
        cluster::addRequestHeadersToAdd,
        cluster::addAllRequestHeadersToRemove,
        cluster::addResponseHeadersToAdd,
        cluster::addAllResponseHeadersToRemove);
  }

  /** Route-level request and response header operations: set overwrites, add appends. */
  public static void headers(Headers headers, Route.Builder route) {
    apply(
        headers,
        route::addRequestHeadersToAdd,
        route::addAllRequestHeadersToRemove,
        route::addResponseHeadersToAdd,
        route::addAllResponseHeadersToRemove);
  }

  private static void apply(
      Headers headers,
      java.util.function.Consumer<HeaderValueOption> requestAdd,
      java.util.function.Consumer<List<String>> requestRemove,
      java.util.function.Consumer<HeaderValueOption> responseAdd,
      java.util.function.Consumer<List<String>> responseRemove) {
    if (headers == null) {
      return;
    }
    operations(headers.getRequest(), requestAdd, requestRemove);
    operations(headers.getResponse(), responseAdd, responseRemove);
  }

  private static void operations(
      HeadersHeaderOperations operations,
      java.util.function.Consumer<HeaderValueOption> add,
      java.util.function.Consumer<List<String>> remove) {
    if (operations == null) {
      return;
    }
    options(operations.getSet(), HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
        .forEach(add);
    options(operations.getAdd(), HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD)
        .forEach(add);
    if (operations.getRemove() != null) {
      remove.accept(operations.getRemove());
    }
  }

  private static List<HeaderValueOption> options(
      Map<String, String> headers, HeaderValueOption.HeaderAppendAction action) {
    List<HeaderValueOption> options = new ArrayList<>();
    if (headers != null) {
      headers.forEach(
          (name, value) ->
              options.add(
                  HeaderValueOption.newBuilder()
                      .setHeader(HeaderValue.newBuilder().setKey(name).setValue(value))
                      .setAppendAction(action)
                      .build()));
    }
    return options;
  }
}
