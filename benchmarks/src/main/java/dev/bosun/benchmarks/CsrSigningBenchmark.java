package dev.bosun.benchmarks;

import dev.bosun.ca.CsrRejectedException;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.SignedCertificate;
import dev.bosun.ca.SpiffeId;
import dev.bosun.ca.WorkloadCertificateSigner;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Workload certificate signing on one thread, as {@code CreateCertificate} does it: parse and check
 * a P-256 CSR (what the Istio agent sends), then issue and encode the leaf and its chain. The CA
 * key is P-256 (Bosun's default root) or RSA-2048 (istiod's default root). The CSRs come from a
 * pool of distinct keys made at setup, so consecutive requests never share a key.
 *
 * <p>{@code java -jar benchmarks/target/benchmarks.jar CsrSigningBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1)
public class CsrSigningBenchmark {
  private static final int POOL = 256;
  private static final String IDENTITY = SpiffeId.of("cluster.local", "default", "frontend");

  @Param({"EC_P256", "RSA_2048"})
  public String caKey;

  private WorkloadCertificateSigner signer;
  private String[] csrs;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    KeyAlgorithm algorithm =
        caKey.equals("EC_P256") ? KeyAlgorithm.ecdsaP256() : KeyAlgorithm.rsa(2048);
    Clock clock = Clock.systemUTC();
    signer =
        new WorkloadCertificateSigner(
            SelfSignedRoot.generate("cluster.local", algorithm, clock), clock);
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    csrs = new String[POOL];
    for (int i = 0; i < POOL; i++) {
      csrs[i] = csr(generator.generateKeyPair());
    }
  }

  @Benchmark
  public SignedCertificate sign(CpuTime cpu) throws CsrRejectedException {
    String csr = csrs[next];
    next = (next + 1) % POOL;
    cpu.operations++;
    return signer.sign(csr, IDENTITY, Duration.ZERO);
  }

  private static String csr(KeyPair keys) throws Exception {
    return csr(keys, IDENTITY);
  }

  /**
   * A PEM CSR for {@code keys} asking for the URI SAN {@code identity}, as the Istio agent sends.
   */
  static String csr(KeyPair keys, String identity) throws Exception {
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity)));
    byte[] der =
        new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), keys.getPublic())
            .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()))
            .getEncoded();
    return "-----BEGIN CERTIFICATE REQUEST-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END CERTIFICATE REQUEST-----\n";
  }

  /**
   * Signatures per second of the benchmark thread's CPU time over the measurement iterations,
   * printed at the end of each trial beside JMH's wall-clock score: the build machines are shared,
   * and on a busy one the wall-clock score says as much about the other tenants as about the
   * signer.
   */
  @State(Scope.Thread)
  public static class CpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    long operations;
    private boolean measuring;
    private long iterationStartOperations;
    private long iterationStartNanos;
    private long measuredOperations;
    private long measuredNanos;

    @Setup(Level.Iteration)
    public void start(IterationParams iteration) {
      measuring = iteration.getType() == IterationType.MEASUREMENT;
      iterationStartOperations = operations;
      iterationStartNanos = THREADS.getCurrentThreadCpuTime();
    }

    @TearDown(Level.Iteration)
    public void stop() {
      if (measuring) {
        measuredOperations += operations - iterationStartOperations;
        measuredNanos += THREADS.getCurrentThreadCpuTime() - iterationStartNanos;
      }
    }

    @TearDown(Level.Trial)
    public void report() {
      if (measuredNanos > 0) {
        System.out.printf(
            "%nCPU time: %.0f signatures per CPU-second of the benchmark thread (%d signatures)%n",
            measuredOperations * 1e9 / measuredNanos, measuredOperations);
      }
    }
  }
}
