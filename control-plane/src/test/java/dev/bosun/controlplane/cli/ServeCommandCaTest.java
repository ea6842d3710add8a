package dev.bosun.controlplane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bosun serve} refuses to start on a broken CA or bad CA options, saying why; without the
 * CA's port it still does the CA's mesh-wide duties.
 */
@EnableKubernetesMockClient(crud = true)
class ServeCommandCaTest {
  KubernetesClient client;
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine command = new CommandLine(new BosunCommand());
    command.setOut(new PrintWriter(out, true));
    command.setErr(new PrintWriter(err, true));
    return command.execute(args);
  }

  private Path kubeconfig() throws java.io.IOException {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: t, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
        users: [{name: t, user: {token: t}}]
        contexts: [{name: t, context: {cluster: t, user: t}}]
        current-context: t
        """
            .formatted(client.getConfiguration().getMasterUrl()));
    return kubeconfig;
  }

  @Test
  void withoutTheSecurePort_theRootIsStillPublished_andTheWebhooksServed() throws Exception {
    Path kubeconfig = kubeconfig();
    client
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName("apps")
                .endMetadata()
                .build())
        .create();
    Thread serve =
        new Thread(
            () ->
                run(
                    "serve",
                    "--kubeconfig",
                    kubeconfig.toString(),
                    "--namespace",
                    "istio-system",
                    "--xds-port",
                    "0",
                    "--secure-xds-port",
                    "-1",
                    "--webhook-port",
                    "0",
                    "--monitoring-port",
                    "0"));
    serve.start();
    try {
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(
              () ->
                  client.configMaps().inNamespace("apps").withName("istio-ca-root-cert").get()
                      != null);
      assertThat(out.toString())
          .contains("admission webhooks over HTTPS on port")
          .doesNotContain("certificate service over TLS");
    } finally {
      serve.interrupt();
      serve.join(30_000);
    }
  }

  @Test
  void brokenPluggedInCa_exitsOne_namingTheSecretAndTheProblem() throws Exception {
    Path kubeconfig = kubeconfig();
    client
        .secrets()
        .inNamespace("istio-system")
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withNamespace("istio-system")
                .withName("cacerts")
                .endMetadata()
                .withStringData(
                    Map.of(
                        "ca-cert.pem", "not a certificate",
                        "ca-key.pem", "",
                        "cert-chain.pem", "",
                        "root-cert.pem", ""))
                .build())
        .create();

    int code =
        run(
            "serve",
            "--kubeconfig",
            kubeconfig.toString(),
            "--namespace",
            "istio-system",
            "--xds-port",
            "0",
            "--secure-xds-port",
            "0",
            "--monitoring-port",
            "0");

    assertThat(code).as(err.toString()).isEqualTo(1);
    assertThat(err.toString())
        .startsWith("bosun serve: the mesh CA is broken: cacerts: ")
        .contains("ca-cert.pem")
        .doesNotContain("\tat ");
  }

  @Test
  void malformedInjectSelector_isAUsageError() {
    assertThat(run("serve", "--never-inject-selector", "[{\"matchLabels\": 3}]")).isEqualTo(2);
    assertThat(err.toString()).startsWith("bosun serve: --never-inject-selector[0]: ");
  }

  @Test
  void zeroCsrRate_isAUsageError() {
    assertThat(run("serve", "--csr-rate", "0")).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "bosun serve: --csr-rate: 0.0 (expected: a number of requests per second > 0)"
                + System.lineSeparator());
  }
}
