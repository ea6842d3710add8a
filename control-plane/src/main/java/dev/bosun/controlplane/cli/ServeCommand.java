package dev.bosun.controlplane.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.ca.CaConfigurationException;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.meshconfig.MeshConfigStore;
import dev.bosun.controlplane.meshconfig.MeshConfigWatcher;
import dev.bosun.controlplane.security.LeaderElection;
import dev.bosun.controlplane.security.LeaderElectionSettings;
import dev.bosun.controlplane.security.MeshCertificateAuthority;
import dev.bosun.controlplane.security.RootCertPublisher;
import dev.bosun.controlplane.source.KubernetesSource;
import dev.bosun.controlplane.webhook.AdmissionHandler;
import dev.bosun.controlplane.webhook.ValidationWebhook;
import dev.bosun.controlplane.webhook.ValidationWebhookController;
import dev.bosun.controlplane.webhook.WebhookServer;
import dev.bosun.controlplane.webhook.inject.InjectionSettings;
import dev.bosun.controlplane.webhook.inject.InjectionWebhook;
import dev.bosun.controlplane.webhook.inject.SidecarInjector;
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

  @Mixin InjectionOptions injection;

  @Option(
      names = "--kubeconfig",
      paramLabel = "PATH",
      description = "kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config).")
  Path kubeconfig;

  @Option(
      names = "--webhook-port",
      defaultValue = "15017",
      description =
          "HTTPS port of the admission webhooks (/validate, /inject), with the CA's serving"
              + " certificate (default: ${DEFAULT-VALUE}; 0 picks a free port; -1 disables them).")
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
      injection.checkSelectors();
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
    dev.bosun.controlplane.security.JwksResolver.Settings jwks;
    try {
      jwks = options.jwksSettings();
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      spec.commandLine().getErr().println("bosun serve: " + e.getMessage());
      return 2;
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
      runtime.mesh().jwks(jwks);
      MeshCertificateAuthority.Settings caSettings = caSettings(runtime.mesh().settings());
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
            .println("bosun serve: cannot serve on port " + ca.securePort + ": " + e.getMessage());
        return 1;
      }
      if (authority.securePort() >= 0) {
        spec.commandLine()
            .getOut()
            .println("xDS and the certificate service over TLS on port " + authority.securePort());
      }
      startRootPublisher(client, runtime, authority);
      if (webhookPort >= 0) {
        Integer failed = startWebhooks(client, runtime, authority, meshConfig);
        if (failed != null) {
          return failed;
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

  /**
   * The mesh-wide duties one replica does at a time, each under its own Lease: publishing the root
   * in every namespace's {@code istio-ca-root-cert}. They run whether or not this replica serves
   * the CA's port.
   */
  private void startRootPublisher(
      KubernetesClient client, ControlPlaneRuntime runtime, MeshCertificateAuthority authority) {
    RootCertPublisher publisher =
        runtime.own(new RootCertPublisher(client, authority::rootPem, runtime.meters()));
    authority.onRootChange(publisher::republish);
    runtime.own(
        new LeaderElection(client, LeaderElectionSettings.defaults(ca.namespace))
            .start(publisher::start, publisher::stop));
  }

  /**
   * The admission webhooks on their HTTPS port, and the leader's keeping of their configurations
   * (caBundle, failurePolicy). Returns an exit code if the port cannot be served, else null.
   */
  private Integer startWebhooks(
      KubernetesClient client,
      ControlPlaneRuntime runtime,
      MeshCertificateAuthority authority,
      MeshConfigStore meshConfig) {
    WebhookServer webhooks;
    try {
      webhooks =
          runtime.own(
              new WebhookServer(
                      new InetSocketAddress(options.xdsAddress, webhookPort),
                      authority.servingKeys(),
                      webhookHandlers(runtime, meshConfig))
                  .start());
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      spec.commandLine()
          .getErr()
          .println(
              "bosun serve: cannot serve webhooks on port " + webhookPort + ": " + e.getMessage());
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
    return null;
  }

  private java.util.Map<String, AdmissionHandler> webhookHandlers(
      ControlPlaneRuntime runtime, MeshConfigStore meshConfig) {
    java.util.Map<String, AdmissionHandler> handlers = new java.util.LinkedHashMap<>();
    handlers.put("/validate", new ValidationWebhook(runtime.meters()));
    if (injection.enabled) {
      InjectionSettings settings =
          injection.settings(
              ca.namespace,
              revision,
              runtime.mesh().settings().trustDomain(),
              runtime.mesh().settings().domainSuffix());
      // The mesh's defaultConfig as the watched mesh config has it at each injection.
      java.util.function.Supplier<ObjectNode> meshDefaultConfig =
          () -> meshConfig.current().defaultConfig();
      handlers.put(
          "/inject",
          new InjectionWebhook(
              injection.policy(settings),
              new SidecarInjector(settings, meshDefaultConfig, injection.injectedAnnotations()),
              runtime.meters()));
    }
    return handlers;
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
        ca.securePort < 0 ? null : new InetSocketAddress(options.xdsAddress, ca.securePort));
  }
}
