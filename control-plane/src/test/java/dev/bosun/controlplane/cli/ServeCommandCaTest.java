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

/** {@code bosun serve} refuses to start on a broken CA or bad CA options, saying why. */
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

  @Test
  void brokenPluggedInCa_exitsOne_namingTheSecretAndTheProblem() throws Exception {
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
  void zeroCsrRate_isAUsageError() {
    assertThat(run("serve", "--csr-rate", "0")).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "bosun serve: --csr-rate: 0.0 (expected: a number of requests per second > 0)"
                + System.lineSeparator());
  }
}
