package dev.bosun.controlplane.xds.gateway;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.LabelSelector;
import dev.bosun.controlplane.model.Protocol;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarClusters;
import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.networking.v1alpha3.Gateway;
import io.fabric8.istio.api.api.networking.v1alpha3.Server;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSmode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Gateways that select one gateway proxy, with their servers merged onto listener ports the way
 * istiod merges them: a server port is the gateway Service's port and is listened on at its {@code
 * targetPort} (a port no Service of the proxy has is listened on as written); plain HTTP servers on
 * one port share the route configuration {@code http.<port>}; TLS servers on one port get a filter
 * chain each, told apart by SNI, and those terminating HTTPS each have their own route
 * configuration {@code https.<port>.<portName>.<gateway>.<namespace>}. A server that cannot be
 * merged (a protocol conflict on its port, a host another TLS server on the port already has, a
 * repeated HTTPS port name) is left out with a warning, and the others stay.
 */
public final class GatewayServers {
  /** One server of a Gateway as it applies to this proxy. */
  public record GatewayServer(
      ConfigEntry gateway,
      Server spec,
      int index,
      List<String> hosts,
      int listenerPort,
      Protocol protocol,
      String routeName) {
    public GatewayServer {
      hosts = List.copyOf(hosts);
    }

    /** {@code namespace/name} of the Gateway, as VirtualServices name it. */
    public String gatewayName() {
      return gateway.key().namespace() + "/" + gateway.key().name();
    }

    /** Where the server is, for messages: {@code Gateway ns/name spec.servers[i]}. */
    public String where() {
      return gateway.key() + " spec.servers[" + index + "]";
    }

    public ServerTLSSettings tls() {
      return spec.getTls();
    }

    public String bind() {
      return spec.getBind() == null ? "" : spec.getBind();
    }

    /** TLS that the gateway does not terminate: routed by SNI to the backend. */
    public boolean passthrough() {
      return tls() != null && GatewayServers.passthrough(tls().getMode());
    }

    /** Istio's "TLS server": TLS settings on a protocol that is not plain HTTP. */
    boolean tlsServer() {
      return tls() != null && !protocol.isHttp();
    }

    /** HTTP, or HTTPS that the gateway terminates: served by an HTTP connection manager. */
    public boolean httpServer() {
      return protocol.isHttp() || (protocol == Protocol.HTTPS && !passthrough());
    }

    /** HTTPS that the gateway terminates. */
    public boolean terminatesHttps() {
      return tls() != null && protocol == Protocol.HTTPS && !passthrough();
    }

    /** The hosts a TLS server's SNI match names, without namespaces, sorted and distinct. */
    public List<String> sniHosts() {
      return hosts.stream().map(GatewayServers::hostPart).distinct().sorted().toList();
    }
  }

  /** The servers of one listener: a port and bind address. */
  public record ListenerServers(int port, String bind, List<GatewayServer> servers) {
    public ListenerServers {
      servers = List.copyOf(servers);
    }
  }

  private final List<ListenerServers> listeners;
  private final Map<String, List<GatewayServer>> byRouteName;
  private final List<String> warnings;

  private GatewayServers(
      List<ListenerServers> listeners,
      Map<String, List<GatewayServer>> byRouteName,
      List<String> warnings) {
    this.listeners = List.copyOf(listeners);
    this.byRouteName = Map.copyOf(byRouteName);
    this.warnings = List.copyOf(warnings);
  }

  /** The listeners, in the order their ports first appear. */
  public List<ListenerServers> listeners() {
    return listeners;
  }

  /** The HTTP servers that route configuration {@code name} serves. */
  public List<GatewayServer> routeServers(String name) {
    return byRouteName.getOrDefault(name, List.of());
  }

  /** Whether a server is {@code AUTO_PASSTHROUGH}: the gateway then needs SNI-DNAT clusters. */
  public boolean autoPassthrough() {
    return listeners.stream()
        .flatMap(l -> l.servers().stream())
        .anyMatch(
            s -> s.tls() != null && s.tls().getMode() == ServerTLSSettingsTLSmode.AUTO_PASSTHROUGH);
  }

  /** Whether a server forwards TCP (TCP, TLS or passthrough), routed by VirtualServices. */
  public boolean forwardsTcp() {
    return listeners.stream()
        .flatMap(l -> l.servers().stream())
        .anyMatch(s -> !s.protocol().isHttp() && !s.terminatesHttps());
  }

  /** The names of the route configurations the listeners ask for. */
  public Set<String> routeNames() {
    return byRouteName.keySet();
  }

  /**
   * The Secrets ({@code namespace/name}) the servers' certificates come from for {@code proxy}:
   * each credential, its {@code -cacert} Secret and an explicit CA credential.
   */
  public Set<String> credentialSecrets(ProxyView proxy) {
    Set<String> secrets = new java.util.TreeSet<>();
    for (ListenerServers listener : listeners) {
      for (GatewayServer server : listener.servers()) {
        ServerTLSSettings tls = server.tls();
        if (tls == null) {
          continue;
        }
        List<String> names = new ArrayList<>();
        if (tls.getCredentialNames() != null) {
          names.addAll(tls.getCredentialNames());
        }
        if (tls.getCredentialName() != null && !tls.getCredentialName().isBlank()) {
          names.add(tls.getCredentialName());
        }
        for (String name : names) {
          String key = EnvoyNames.credentialSecret(name, proxy.namespace());
          secrets.add(key);
          secrets.add(key + EnvoyNames.CA_SUFFIX);
        }
        if (tls.getCaCertCredentialName() != null && !tls.getCaCertCredentialName().isBlank()) {
          secrets.add(
              EnvoyNames.credentialSecret(tls.getCaCertCredentialName(), proxy.namespace()));
        }
      }
    }
    return secrets;
  }

  /** Servers left out, and why. */
  public List<String> warnings() {
    return warnings;
  }

  /**
   * The merged servers of {@code proxy}, computed once per snapshot for proxies with the same
   * namespace, labels and service ports.
   */
  public static GatewayServers of(MeshSnapshot snapshot, ProxyView proxy) {
    List<SidecarClusters.ServiceTarget> targets = SidecarClusters.serviceTargets(snapshot, proxy);
    List<List<Object>> ports = new ArrayList<>();
    for (SidecarClusters.ServiceTarget target : targets) {
      ports.add(List.of(target.port().port(), target.targetPort()));
    }
    return snapshot.derived(
        List.of("gateway-servers", proxy.namespace(), proxy.labels(), ports),
        () -> merge(selected(snapshot, proxy), targets));
  }

  /**
   * Gateways whose selector is a subset of the proxy's labels (an empty selector selects every
   * gateway proxy), from any namespace, as istiod does by default.
   */
  static List<ConfigEntry> selected(MeshSnapshot snapshot, ProxyView proxy) {
    List<ConfigEntry> selected = new ArrayList<>();
    for (ConfigEntry entry : snapshot.config().list(IstioKind.GATEWAY)) {
      Map<String, String> selector = entry.spec(Gateway.class).getSelector();
      if (selector == null || LabelSelector.selects(selector, proxy.labels())) {
        selected.add(entry);
      }
    }
    return selected;
  }

  private record PortKey(int port, String protocol, String bind) {}

  private static GatewayServers merge(
      List<ConfigEntry> gateways, List<SidecarClusters.ServiceTarget> targets) {
    Set<Integer> gatewayPorts = new HashSet<>();
    Map<Integer, PortKey> plainText = new HashMap<>();
    Map<Integer, Map<String, String>> tlsHosts = new HashMap<>();
    Map<PortKey, List<GatewayServer>> merged = new LinkedHashMap<>();
    Map<String, List<GatewayServer>> byRouteName = new LinkedHashMap<>();
    List<String> warnings = new ArrayList<>();
    for (ConfigEntry entry : gateways) {
      List<Server> servers = entry.spec(Gateway.class).getServers();
      if (servers == null) {
        continue;
      }
      for (int i = 0; i < servers.size(); i++) {
        Server spec = servers.get(i);
        if (spec.getPort() == null || spec.getPort().getNumber() == null) {
          continue; // refused by validation
        }
        int number = spec.getPort().getNumber().intValue();
        Protocol protocol = Protocol.parse(spec.getPort().getProtocol());
        List<String> hosts = sanitizeHosts(spec.getHosts(), entry.key().namespace());
        int listenerPort = resolvePort(number, targets);
        GatewayServer server =
            new GatewayServer(
                entry,
                spec,
                i,
                hosts,
                listenerPort,
                protocol,
                routeName(spec, protocol, listenerPort, entry));
        String bind = server.bind();
        if (spec.getTls() != null) {
          Map<String, String> known = tlsHosts.computeIfAbsent(listenerPort, p -> new HashMap<>());
          // SNI carries no namespace: ns1/a.example.com and ns2/a.example.com are one match.
          List<String> duplicates =
              hosts.stream()
                  .map(GatewayServers::hostPart)
                  .filter(h -> bind.equals(known.get(h)))
                  .toList();
          if (!duplicates.isEmpty()) {
            warnings.add(
                server.where()
                    + ": left out: another TLS server on port "
                    + listenerPort
                    + " already has hosts "
                    + duplicates);
            continue;
          }
          hosts.forEach(h -> known.put(hostPart(h), bind));
        }
        PortKey key = new PortKey(listenerPort, protocolName(spec), bind);
        String route = server.routeName();
        if (!gatewayPorts.add(listenerPort)) {
          PortKey current = plainText.get(listenerPort);
          if (current != null) {
            if (!canMerge(Protocol.parse(current.protocol()), protocol)
                && current.bind().equals(bind)) {
              warnings.add(
                  server.where()
                      + ": left out: protocol "
                      + protocolName(spec)
                      + " conflicts with the "
                      + current.protocol()
                      + " server already on port "
                      + listenerPort);
              continue;
            }
            if (route.isEmpty() && current.bind().equals(bind)) {
              warnings.add(
                  server.where()
                      + ": left out: a "
                      + protocolName(spec)
                      + " server cannot share port "
                      + listenerPort
                      + " with another");
              continue;
            }
            PortKey target = current.bind().equals(bind) ? current : key;
            merged.computeIfAbsent(target, k -> new ArrayList<>()).add(server);
            byRouteName.computeIfAbsent(route, r -> new ArrayList<>()).add(server);
            continue;
          }
          if (!server.tlsServer()) {
            plainText.put(listenerPort, key);
            if (server.httpServer()) {
              byRouteName.put(route, new ArrayList<>(List.of(server)));
            }
            merged.computeIfAbsent(key, k -> new ArrayList<>()).add(server);
            continue;
          }
          if (server.httpServer()) {
            if (byRouteName.containsKey(route)) {
              warnings.add(
                  server.where()
                      + ": left out: port name "
                      + spec.getPort().getName()
                      + " is not unique among the HTTPS servers on port "
                      + listenerPort);
              continue;
            }
            byRouteName.put(route, new ArrayList<>(List.of(server)));
          }
          merged.computeIfAbsent(key, k -> new ArrayList<>()).add(server);
        } else {
          if (!server.tlsServer()) {
            plainText.put(listenerPort, key);
          }
          if (server.httpServer()) {
            byRouteName.put(route, new ArrayList<>(List.of(server)));
          }
          merged.computeIfAbsent(key, k -> new ArrayList<>()).add(server);
        }
      }
    }
    // Listeners are per port and bind address: protocols on one port were merged above.
    Map<List<Object>, List<GatewayServer>> byListener = new LinkedHashMap<>();
    merged.forEach(
        (key, servers) ->
            byListener
                .computeIfAbsent(List.of(key.port(), key.bind()), k -> new ArrayList<>())
                .addAll(servers));
    List<ListenerServers> listeners = new ArrayList<>();
    byListener.forEach(
        (key, servers) ->
            listeners.add(new ListenerServers((Integer) key.get(0), (String) key.get(1), servers)));
    byRouteName.remove("");
    return new GatewayServers(listeners, byRouteName, warnings);
  }

  private static String protocolName(Server spec) {
    return spec.getPort().getProtocol() == null ? "" : spec.getPort().getProtocol();
  }

  /** Plain HTTP servers merge with HTTP ones; anything else only with its own protocol. */
  private static boolean canMerge(Protocol current, Protocol next) {
    return (current.isHttp() || current == next) && next.isHttp();
  }

  /**
   * The port the proxy listens on for a Gateway server port: the {@code targetPort} of the first of
   * its Services with that port, else the number as written.
   */
  static int resolvePort(int number, List<SidecarClusters.ServiceTarget> targets) {
    for (SidecarClusters.ServiceTarget target : targets) {
      if (target.port().port() == number) {
        return target.targetPort();
      }
    }
    return number;
  }

  /**
   * {@code http.<listener port>} for HTTP servers, {@code https.<server port>.<port
   * name>.<gateway>.<namespace>} for HTTPS servers the gateway terminates (each with {@code
   * .<bind>} when bound to an address), none for the rest.
   */
  static String routeName(Server spec, Protocol protocol, int listenerPort, ConfigEntry gateway) {
    String bind = spec.getBind() == null || spec.getBind().isEmpty() ? "" : "." + spec.getBind();
    if (protocol.isHttp()) {
      return "http." + listenerPort + bind;
    }
    boolean passthrough = spec.getTls() != null && passthrough(spec.getTls().getMode());
    if (protocol == Protocol.HTTPS && !passthrough) {
      return "https."
          + spec.getPort().getNumber()
          + "."
          + spec.getPort().getName()
          + "."
          + gateway.key().name()
          + "."
          + gateway.key().namespace()
          + bind;
    }
    return "";
  }

  /**
   * Server hosts as istiod reads them: {@code ./host} is in the Gateway's namespace, {@code *
   * /host} is any namespace's (written {@code host}), and {@code * / *} alone is every host.
   */
  static List<String> sanitizeHosts(List<String> hosts, String namespace) {
    if (hosts == null) {
      return List.of();
    }
    List<String> sanitized = new ArrayList<>();
    for (String host : hosts) {
      int slash = host.indexOf('/');
      if (slash < 0) {
        sanitized.add(host);
        continue;
      }
      String ns = host.substring(0, slash);
      String name = host.substring(slash + 1);
      if (ns.equals(".")) {
        sanitized.add(namespace + "/" + name);
      } else if (ns.equals("*")) {
        if (name.equals("*")) {
          return List.of("*");
        }
        sanitized.add(name);
      } else {
        sanitized.add(host);
      }
    }
    return sanitized;
  }

  /** An unset mode is the proto's default, {@code PASSTHROUGH}, as istiod reads it. */
  static boolean passthrough(ServerTLSSettingsTLSmode mode) {
    return mode == null
        || mode == ServerTLSSettingsTLSmode.PASSTHROUGH
        || mode == ServerTLSSettingsTLSmode.AUTO_PASSTHROUGH;
  }

  /** The host of {@code namespace/host}, or the host as written. */
  static String hostPart(String host) {
    int slash = host.indexOf('/');
    return slash < 0 ? host : host.substring(slash + 1);
  }
}
