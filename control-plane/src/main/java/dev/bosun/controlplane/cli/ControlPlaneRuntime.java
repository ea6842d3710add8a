package dev.bosun.controlplane.cli;

import dev.bosun.controlplane.mesh.MeshModel;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.meshconfig.MeshConfigStore;
import dev.bosun.controlplane.monitor.MonitoringServer;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.xds.MeshXdsGenerator;
import dev.bosun.controlplane.xds.WarningLog;
import dev.bosun.controlplane.xds.XdsPushes;
import dev.bosun.controlplane.xds.policy.UpstreamTlsChangeFilter;
import dev.bosun.xds.XdsServer;
import dev.bosun.xds.XdsServerSettings;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The running control plane of one process: metrics, the mesh model and the monitoring server, with
 * the sources a mode adds. Closing it stops everything in reverse order.
 */
public final class ControlPlaneRuntime implements AutoCloseable {
  private final PrometheusMeterRegistry meters =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final MeshModel mesh;
  private final MeshConfigStore meshConfig;
  private final MonitoringServer monitoring;
  private final XdsServer xds;
  private final XdsPushes pushes;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** A runtime whose mesh config is Istio's defaults with the settings' identity. */
  public ControlPlaneRuntime(
      MeshSettings settings,
      InetSocketAddress monitoringAddress,
      XdsServerSettings xdsSettings,
      Set<String> sources)
      throws IOException {
    this(
        settings,
        new MeshConfigStore(
            new MeshConfigStore.Overrides(
                java.util.Optional.of(settings.rootNamespace()),
                java.util.Optional.of(settings.trustDomain()))),
        monitoringAddress,
        xdsSettings,
        sources);
  }

  /**
   * @param meshConfig the mesh config in force; each change it applies is a full push
   */
  public ControlPlaneRuntime(
      MeshSettings settings,
      MeshConfigStore meshConfig,
      InetSocketAddress monitoringAddress,
      XdsServerSettings xdsSettings,
      Set<String> sources)
      throws IOException {
    this.meshConfig = meshConfig;
    meshConfig.started();
    new JvmMemoryMetrics().bindTo(meters);
    new JvmThreadMetrics().bindTo(meters);
    new ProcessorMetrics().bindTo(meters);
    mesh =
        new MeshModel(
            settings,
            meters,
            Ticker.SYSTEM,
            Clock.systemUTC(),
            sources,
            new UpstreamTlsChangeFilter(),
            meshConfig::current);
    meshConfig.addListener(config -> mesh.meshConfigChanged("mesh config changed"));
    FunctionCounter.builder("bosun_mesh_config_rejects", meshConfig, MeshConfigStore::rejects)
        .description("Mesh configs rejected (the last good one stayed in force)")
        .register(meters);
    MeshXdsGenerator generators =
        new MeshXdsGenerator(
            mesh::snapshot, settings.domainSuffix(), settings.trustDomain(), new WarningLog());
    xds = new XdsServer(xdsSettings, generators, meters, System::nanoTime).start();
    pushes = new XdsPushes(xds, generators);
    mesh.addListener(pushes);
    mesh.start();
    monitoring = new MonitoringServer(monitoringAddress, mesh, meters, () -> true).start();
    monitoring.handle("/debug/syncz", query -> xds.syncStatus(query.getOrDefault("namespace", "")));
    monitoring.handle("/debug/connections", query -> xds.connections());
    monitoring.handle(
        "/debug/adsz",
        query -> {
          String proxy = query.getOrDefault("proxyID", "");
          return xds.adsz(proxy).<Object>map(body -> body).orElse(notConnected(proxy));
        });
    monitoring.handle("/debug/push_status", query -> pushes.status());
    monitoring.handle("/debug/mesh", query -> meshConfig.status());
    monitoring.handle(
        "/debug/config_dump",
        query -> {
          String proxy = query.get("proxyID");
          if (proxy == null || proxy.isEmpty()) {
            return java.util.Map.of(
                "error", "proxyID is required, e.g. /debug/config_dump?proxyID=<node id>");
          }
          var dumps = xds.configDump(proxy);
          return dumps.isEmpty() ? notConnected(proxy) : dumps;
        });
  }

  public XdsServer xds() {
    return xds;
  }

  public MeshModel mesh() {
    return mesh;
  }

  /** The mesh config in force and its history of rejects. */
  public MeshConfigStore meshConfig() {
    return meshConfig;
  }

  public MonitoringServer monitoring() {
    return monitoring;
  }

  public PrometheusMeterRegistry meters() {
    return meters;
  }

  /** Closes {@code closeable} with the runtime (before the mesh model). */
  public <T extends AutoCloseable> T own(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  /** Blocks until {@link #close} (a shutdown hook calls it on SIGTERM/Ctrl-C). */
  public void awaitShutdown() throws InterruptedException {
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "bosun-shutdown"));
    stopped.await();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        org.slf4j.LoggerFactory.getLogger(ControlPlaneRuntime.class).warn("close failed", e);
      }
    }
    closeables.clear();
    xds.close();
    monitoring.close();
    mesh.close();
    stopped.countDown();
  }

  /** What the debug pages answer for a proxy not connected to this replica, as istiod says it. */
  private static MonitoringServer.NotFound notConnected(String proxy) {
    return new MonitoringServer.NotFound(
        "Proxy "
            + proxy
            + " not connected to this Bosun replica. It may be connected to another replica"
            + " (/debug/syncz lists the proxies connected here).");
  }
}
