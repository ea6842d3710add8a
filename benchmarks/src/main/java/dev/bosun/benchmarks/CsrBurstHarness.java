package dev.bosun.benchmarks;

import dev.bosun.ca.IstioCertificateService;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.TokenAuthenticator;
import dev.bosun.ca.TokenAuthenticator.CallerIdentity;
import dev.bosun.ca.WorkloadCertificateSigner;
import dev.bosun.ca.api.IstioCertificateRequest;
import dev.bosun.ca.api.IstioCertificateResponse;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A burst of CreateCertificate calls, as when every pod of a cluster restarts at once: {@code N}
 * workloads, each with its own identity and P-256 key, send their CSR at the same moment over gRPC
 * on loopback; the harness prints the latency distribution and the rate. Token review is replaced
 * by an authenticator that trusts the token, so the figure is the CA's own cost (on a cluster each
 * call also waits for the API server's TokenReview).
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar dev.bosun.benchmarks.CsrBurstHarness 2000
 * ec-p256} (or {@code rsa-2048})
 */
public final class CsrBurstHarness {
  private CsrBurstHarness() {}

  public static void main(String[] args) throws Exception {
    int burst = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    String caKey = args.length > 1 ? args[1] : "ec-p256";
    KeyAlgorithm algorithm =
        caKey.equals("rsa-2048") ? KeyAlgorithm.rsa(2048) : KeyAlgorithm.ecdsaP256();
    Clock clock = Clock.systemUTC();
    WorkloadCertificateSigner signer =
        new WorkloadCertificateSigner(
            SelfSignedRoot.generate("cluster.local", algorithm, clock), clock);
    // The token names the caller: "<namespace>/<service account>".
    TokenAuthenticator trusting =
        token -> new CallerIdentity(token.split("/")[0], token.split("/")[1]);
    Server server =
        io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
                new java.net.InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
            .addService(
                new IstioCertificateService(
                    trusting, () -> signer, "cluster.local", 10, 100, new SimpleMeterRegistry()))
            .build()
            .start();

    System.out.printf("preparing %d CSRs (one P-256 key each)...%n", burst);
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    String[] csrs = new String[burst];
    for (int i = 0; i < burst; i++) {
      csrs[i] =
          CsrSigningBenchmark.csr(
              generator.generateKeyPair(), "spiffe://cluster.local/ns/load/sa/workload-" + i);
    }
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < Math.max(1, burst / 100); i++) {
      channels.add(
          Grpc.newChannelBuilder(
                  "127.0.0.1:" + server.getPort(), InsecureChannelCredentials.create())
              .build());
    }
    // Warm up: JIT the signing path and open every connection.
    for (int i = 0; i < channels.size(); i++) {
      call(channels.get(i), "load/workload-" + i, csrs[i]);
    }
    System.out.printf(
        "burst of %d CSRs, %s CA key, %d connections, %d cores%n",
        burst, caKey, channels.size(), Runtime.getRuntime().availableProcessors());

    long[] latencies = new long[burst];
    AtomicInteger failures = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(burst);
    long start = System.nanoTime();
    for (int i = 0; i < burst; i++) {
      int index = i;
      long sent = System.nanoTime();
      ClientCalls.asyncUnaryCall(
          withToken(channels.get(i % channels.size()), "load/workload-" + i),
          request(csrs[i]),
          new StreamObserver<IstioCertificateResponse>() {
            @Override
            public void onNext(IstioCertificateResponse value) {}

            @Override
            public void onError(Throwable t) {
              failures.incrementAndGet();
              latencies[index] = System.nanoTime() - sent;
              done.countDown();
            }

            @Override
            public void onCompleted() {
              latencies[index] = System.nanoTime() - sent;
              done.countDown();
            }
          });
    }
    if (!done.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("the burst did not finish in 10 minutes");
    }
    long wall = System.nanoTime() - start;
    Arrays.sort(latencies);
    System.out.printf(
        "done in %.0f ms: %.0f CSRs/s; latency p50 %.0f ms, p99 %.0f ms, max %.0f ms; %d failed%n",
        wall / 1e6,
        burst * 1e9 / wall,
        latencies[burst / 2] / 1e6,
        latencies[(int) Math.ceil(burst * 0.99) - 1] / 1e6,
        latencies[burst - 1] / 1e6,
        failures.get());
    channels.forEach(ManagedChannel::shutdownNow);
    server.shutdownNow();
  }

  private static io.grpc.ClientCall<IstioCertificateRequest, IstioCertificateResponse> withToken(
      ManagedChannel channel, String token) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers))
        .newCall(IstioCertificateService.CREATE_CERTIFICATE, CallOptions.DEFAULT);
  }

  private static void call(ManagedChannel channel, String token, String csr) {
    ClientCalls.blockingUnaryCall(withToken(channel, token), request(csr));
  }

  private static IstioCertificateRequest request(String csr) {
    return IstioCertificateRequest.newBuilder().setCsr(csr).build();
  }
}
