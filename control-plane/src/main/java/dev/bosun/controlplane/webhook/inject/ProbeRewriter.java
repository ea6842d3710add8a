package dev.bosun.controlplane.webhook.inject;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HTTPGetActionBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * App probe rewriting, as istiod's: with mTLS in front of the app the kubelet cannot reach its
 * HTTP, TCP and gRPC probes (and HTTP/TCP lifecycle hooks), so each is pointed at the agent's
 * status port under {@code /app-health/<container>/<kind>z} (hooks under {@code /app-lifecycle/}),
 * and the originals travel to the agent in {@code ISTIO_KUBE_APP_PROBERS}, which probes the app on
 * the kubelet's behalf.
 */
final class ProbeRewriter {
  static final String ENV = "ISTIO_KUBE_APP_PROBERS";

  private ProbeRewriter() {}

  /**
   * The original probes as {@code ISTIO_KUBE_APP_PROBERS} wants them, keyed by their new path
   * (sorted), or {@code ""} when there is none. Named ports are resolved; a probe already on the
   * status port, or on a port name the container lacks, is left out.
   */
  static String appProbers(Pod pod, int statusPort) {
    Map<String, ObjectNode> out = new TreeMap<>();
    List<Container> all =
        new ArrayList<>(ProxyParts.nullToEmpty(pod.getSpec().getInitContainers()));
    all.addAll(pod.getSpec().getContainers());
    for (Container c : all) {
      if (SidecarAnnotations.PROXY_CONTAINER.equals(c.getName())) {
        continue;
      }
      Map<String, Integer> named = new HashMap<>();
      for (ContainerPort p : ProxyParts.nullToEmpty(c.getPorts())) {
        if (p.getName() != null && !p.getName().isEmpty()) {
          named.put(p.getName(), p.getContainerPort());
        }
      }
      put(out, health(c, "readyz"), prober(c.getReadinessProbe(), named, statusPort));
      put(out, health(c, "livez"), prober(c.getLivenessProbe(), named, statusPort));
      put(out, health(c, "startupz"), prober(c.getStartupProbe(), named, statusPort));
      if (c.getLifecycle() != null) {
        put(out, lifecycle(c, "prestopz"), hook(c.getLifecycle().getPreStop(), named, statusPort));
        put(
            out,
            lifecycle(c, "poststartz"),
            hook(c.getLifecycle().getPostStart(), named, statusPort));
      }
    }
    if (out.isEmpty()) {
      return "";
    }
    ObjectNode json = IstioJson.json().createObjectNode();
    out.forEach(json::set);
    return json.toString();
  }

  /** Points every app probe and hook at {@code statusPort}, as {@link #appProbers} lists them. */
  static void rewrite(Pod pod, int statusPort) {
    for (List<Container> list :
        List.of(
            ProxyParts.nullToEmpty(pod.getSpec().getContainers()),
            ProxyParts.nullToEmpty(pod.getSpec().getInitContainers()))) {
      for (Container c : list) {
        if (SidecarAnnotations.PROXY_CONTAINER.equals(c.getName())) {
          continue;
        }
        c.setReadinessProbe(rewritten(c.getReadinessProbe(), health(c, "readyz"), statusPort));
        c.setLivenessProbe(rewritten(c.getLivenessProbe(), health(c, "livez"), statusPort));
        c.setStartupProbe(rewritten(c.getStartupProbe(), health(c, "startupz"), statusPort));
        if (c.getLifecycle() != null) {
          c.getLifecycle()
              .setPreStop(
                  rewritten(c.getLifecycle().getPreStop(), lifecycle(c, "prestopz"), statusPort));
          c.getLifecycle()
              .setPostStart(
                  rewritten(
                      c.getLifecycle().getPostStart(), lifecycle(c, "poststartz"), statusPort));
        }
      }
    }
  }

  private static String health(Container c, String kind) {
    return "/app-health/" + c.getName() + "/" + kind;
  }

  private static String lifecycle(Container c, String kind) {
    return "/app-lifecycle/" + c.getName() + "/" + kind;
  }

  private static void put(Map<String, ObjectNode> out, String path, ObjectNode prober) {
    if (prober != null) {
      out.put(path, prober);
    }
  }

  private static ObjectNode prober(Probe probe, Map<String, Integer> named, int statusPort) {
    if (probe == null) {
      return null;
    }
    ObjectNode prober = IstioJson.json().createObjectNode();
    if (probe.getHttpGet() != null) {
      Object port = port(probe.getHttpGet().getPort(), named, statusPort);
      if (port == null) {
        return null;
      }
      prober.set("httpGet", httpGet(probe.getHttpGet(), port));
    } else if (probe.getTcpSocket() != null) {
      Object port = port(probe.getTcpSocket().getPort(), named, statusPort);
      if (port == null) {
        return null;
      }
      prober.set("tcpSocket", tcpSocket(port, probe.getTcpSocket().getHost()));
    } else if (probe.getGrpc() != null) {
      ObjectNode grpc = prober.putObject("grpc");
      grpc.put("port", probe.getGrpc().getPort() == null ? 0 : probe.getGrpc().getPort());
      if (probe.getGrpc().getService() != null) {
        grpc.put("service", probe.getGrpc().getService());
      }
    } else {
      return null;
    }
    if (probe.getTimeoutSeconds() != null && probe.getTimeoutSeconds() != 0) {
      prober.put("timeoutSeconds", probe.getTimeoutSeconds());
    }
    return prober;
  }

  private static ObjectNode hook(
      LifecycleHandler handler, Map<String, Integer> named, int statusPort) {
    if (handler == null) {
      return null;
    }
    ObjectNode prober = IstioJson.json().createObjectNode();
    if (handler.getHttpGet() != null) {
      Object port = port(handler.getHttpGet().getPort(), named, statusPort);
      if (port == null) {
        return null;
      }
      prober.set("httpGet", httpGet(handler.getHttpGet(), port));
    } else if (handler.getTcpSocket() != null) {
      Object port = port(handler.getTcpSocket().getPort(), named, statusPort);
      if (port == null) {
        return null;
      }
      prober.set("tcpSocket", tcpSocket(port, handler.getTcpSocket().getHost()));
    } else {
      return null;
    }
    return prober;
  }

  /** The probe's port as a number; null when it is the status port or an unknown name. */
  private static Object port(IntOrString port, Map<String, Integer> named, int statusPort) {
    if (port == null) {
      return 0;
    }
    if (port.getStrVal() != null) {
      return named.get(port.getStrVal());
    }
    return port.getIntVal() != null && port.getIntVal() == statusPort ? null : port.getIntVal();
  }

  /** An HTTPGetAction in Go's field order, empty fields left out. */
  private static ObjectNode httpGet(HTTPGetAction action, Object port) {
    ObjectNode json = IstioJson.json().createObjectNode();
    if (action.getPath() != null && !action.getPath().isEmpty()) {
      json.put("path", action.getPath());
    }
    json.put("port", (Integer) port);
    if (action.getHost() != null && !action.getHost().isEmpty()) {
      json.put("host", action.getHost());
    }
    if (action.getScheme() != null && !action.getScheme().isEmpty()) {
      json.put("scheme", action.getScheme());
    }
    if (action.getHttpHeaders() != null && !action.getHttpHeaders().isEmpty()) {
      var headers = json.putArray("httpHeaders");
      action
          .getHttpHeaders()
          .forEach(h -> headers.addObject().put("name", h.getName()).put("value", h.getValue()));
    }
    return json;
  }

  private static ObjectNode tcpSocket(Object port, String host) {
    ObjectNode json = IstioJson.json().createObjectNode();
    json.put("port", (Integer) port);
    if (host != null && !host.isEmpty()) {
      json.put("host", host);
    }
    return json;
  }

  private static Probe rewritten(Probe probe, String path, int statusPort) {
    if (probe == null) {
      return null;
    }
    if (probe.getHttpGet() != null) {
      probe.setHttpGet(toStatus(probe.getHttpGet(), path, statusPort));
    } else if (probe.getTcpSocket() != null || probe.getGrpc() != null) {
      probe.setHttpGet(toStatus(new HTTPGetAction(), path, statusPort));
      probe.setTcpSocket(null);
      probe.setGrpc(null);
    }
    return probe;
  }

  private static LifecycleHandler rewritten(LifecycleHandler handler, String path, int statusPort) {
    if (handler == null) {
      return null;
    }
    if (handler.getHttpGet() != null) {
      handler.setHttpGet(toStatus(handler.getHttpGet(), path, statusPort));
    } else if (handler.getTcpSocket() != null) {
      handler.setHttpGet(toStatus(new HTTPGetAction(), path, statusPort));
      handler.setTcpSocket(null);
    }
    return handler;
  }

  /** The same request sent to the agent: its path and port, HTTPS becoming HTTP. */
  private static HTTPGetAction toStatus(HTTPGetAction action, String path, int statusPort) {
    HTTPGetActionBuilder builder =
        new HTTPGetActionBuilder(action).withPath(path).withPort(new IntOrString(statusPort));
    if ("HTTPS".equals(action.getScheme())) {
      builder.withScheme("HTTP");
    }
    return builder.build();
  }
}
