package dev.bosun.controlplane.cli;

import dev.bosun.ca.CaConfigurationException;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.meshconfig.MeshConfigStore;
import dev.bosun.controlplane.meshconfig.MeshConfigWatcher;
import dev.bosun.controlplane.security.LeaderElection;
import dev.bosun.controlplane.security.LeaderElectionSettings;
import dev.bosun.controlplane.security.MeshCertificateAuthority;
import dev.bosun.controlplane.source.KubernetesSource;
import dev.bosun.controlplane.webhook.ValidationWebhook;
import dev.bosun.controlplane.webhook.ValidationWebhookController;
import dev.bosun.controlplane.webhook.WebhookServer;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bosun serve}: runs the control plane against a Kubernetes API server. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Runs Bosun against Kubernetes: in-cluster configuration by default, or --kubeconfig."
          + " Runs until stopped."
    })
final class ServeCommand implements Callable<Integer> {
  /** The Lease the replicas elect the keeper of the webhook configurations on. */
  static final String VALIDATION_LEASE = "bosun-validation-controller-election";

  @Spec CommandSpec spec;

  @Mixin MeshOptions options;

  @Mixin CaOptions ca;

  @Option(
      names = "--kubeconfig",
      paramLabel = "PATH",
      description = "kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config).")
  Path kubeconfig;

  @Option(
      names = "--webhook-port",
      defaultValue = "15017",
      description =
          "HTTPS port of the admission webhooks (/validate), with the CA's serving certificate"
              + " (default: ${DEFAULT-VALUE}; 0 picks a free port; -1 disables them; off when the"
              + " CA is off).")
  int webhookPort;

  @Option(
      names = "--revision",
      defaultValue = "",
      description =
          "The control-plane revision (istio.io/rev) this Bosun serves; its webhook configurations"
              + " carry istio.io/rev=<revision>, or \"default\" when empty (default: empty).")
  String revision;

  @Option(
      names = "--mesh-config-map",
      defaultValue = "",
      paramLabel = "NAME",
      description =
          "ConfigMap in Bosun's namespace (--namespace) whose key mesh holds Istio's MeshConfig"
              + " YAML, read at start and watched (default: istio, or istio-<revision> with"
              + " --revision, as istiod).")
  String meshConfigMap;

  @Option(
      names = "--keep-webhook-failure-policy",
      description =
          "Leave the validation webhooks' failurePolicy as installed; otherwise the leader"
              + " switches Ignore to Fail once the API server is seen calling the webhook.")
  boolean keepWebhookFailurePolicy;

  @Override
  public Integer call() throws Exception {
    try {
      ca.checkLimits();
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("bosun serve: " + e.getMessage());
      return 2;
    }
    Config config;
    if (kubeconfig != null) {
      if (!Files.isReadable(kubeconfig)) {
        spec.commandLine()
            .getErr()
            .println("bosun serve: " + kubeconfig + ": cannot read kubeconfig");
        return 2;
      }
      config = Config.fromKubeconfig(Files.readString(kubeconfig));
    } else {
      config = Config.autoConfigure(null);
    }
    MeshConfigStore meshConfig = new MeshConfigStore(options.overrides(spec));
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
        MeshConfigWatcher meshConfigWatcher =
            new MeshConfigWatcher(client, ca.namespace, meshConfigMap(), meshConfig).start();
        ControlPlaneRuntime runtime =
            new ControlPlaneRuntime(
                options.settings(meshConfig.current()),
                meshConfig,
                new InetSocketAddress(options.monitoringAddress, options.monitoringPort),
                options.xdsSettings(),
                Set.of(KubernetesSource.NAME))) {
      MeshCertificateAuthority.Settings caSettings = caSettings(runtime.mesh().settings());
      if (ca.securePort >= 0) {
        MeshCertificateAuthority authority;
        try {
          authority =
              runtime.own(
                  new MeshCertificateAuthority(
                      client,
                      runtime.xds(),
                      caSettings,
                      runtime.meters(),
                      java.time.Clock.systemUTC()));
        } catch (CaConfigurationException e) {
          spec.commandLine()
              .getErr()
              .println("bosun serve: the mesh CA is broken: " + e.getMessage());
          return 1;
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
          spec.commandLine()
              .getErr()
              .println(
                  "bosun serve: cannot read or store the CA Secrets in namespace "
                      + ca.namespace
                      + ": "
                      + e.getMessage());
          return 1;
        } catch (java.io.IOException e) {
          spec.commandLine()
              .getErr()
              .println(
                  "bosun serve: cannot serve on port " + ca.securePort + ": " + e.getMessage());
          return 1;
        }
        spec.commandLine()
            .getOut()
            .println("xDS and the certificate service over TLS on port " + authority.securePort());
        if (webhookPort >= 0) {
          WebhookServer webhooks;
          try {
            webhooks =
                runtime.own(
                    new WebhookServer(
                            new InetSocketAddress(options.xdsAddress, webhookPort),
                            authority.servingKeys(),
                            new ValidationWebhook(runtime.meters()),
                            runtime.meters())
                        .start());
          } catch (java.io.IOException e) {
            spec.commandLine()
                .getErr()
                .println(
                    "bosun serve: cannot serve webhooks on port "
                        + webhookPort
                        + ": "
                        + e.getMessage());
            return 1;
          }
          spec.commandLine()
              .getOut()
              .println("admission webhooks over HTTPS on port " + webhooks.address().getPort());
          ValidationWebhookController controller =
              runtime.own(
                  new ValidationWebhookController(
                      client,
                      ca.namespace,
                      revision.isEmpty() ? "default" : revision,
                      authority::rootPem,
                      keepWebhookFailurePolicy,
                      java.time.Duration.ofMinutes(1)));
          runtime.own(
              new LeaderElection(
                      client,
                      LeaderElectionSettings.defaults(ca.namespace).withLeaseName(VALIDATION_LEASE))
                  .start(controller::start, controller::stop));
        }
      }
      runtime.own(new KubernetesSource(client, runtime.mesh()).start());
      runtime.awaitShutdown();
    } catch (InterruptedException e) {
      // Stopped by its host (an embedding process or test); the runtime is closed above.
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** The ConfigMap holding the mesh config: {@code --mesh-config-map}, else Istio's name. */
  private String meshConfigMap() {
    return meshConfigMap.isEmpty() ? MeshConfigWatcher.configMapName(revision) : meshConfigMap;
  }

  private MeshCertificateAuthority.Settings caSettings(MeshSettings mesh) {
    return new MeshCertificateAuthority.Settings(
        ca.namespace,
        mesh.trustDomain(),
        ca.keyAlgorithm(),
        ca.certificateOptions(),
        ca.tokenAudience,
        ca.csrRate,
        ca.csrBurst,
        ca.dnsNames(mesh.domainSuffix()),
        new InetSocketAddress(options.xdsAddress, ca.securePort));
  }
}
