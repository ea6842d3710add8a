package dev.bosun.e2e;

import dev.bosun.ca.IstioCertificateService;
import dev.bosun.ca.TokenAuthenticator;
import dev.bosun.ca.api.IstioCertificateRequest;
import dev.bosun.ca.api.IstioCertificateResponse;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * What the Istio agent does for a workload, done by hand: make a key and a CSR for its SPIFFE
 * identity, call Bosun's {@code CreateCertificate} over TLS with its service-account token
 * (trusting the root published in {@code istio-ca-root-cert}), and write the files grpc-java's
 * {@code file_watcher} certificate provider reads.
 */
final class WorkloadCertificates {
  private WorkloadCertificates() {}

  /** Files written for one workload. */
  record IssuedFiles(Path certificate, Path key, Path root) {}

  static IssuedFiles fetch(int securePort, String rootPem, String token, String spiffeId, Path dir)
      throws IOException, GeneralSecurityException, OperatorCreationException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair key = generator.generateKeyPair();
    IstioCertificateResponse response = call(securePort, rootPem, token, csr(key, spiffeId), 3600);
    Files.createDirectories(dir);
    IssuedFiles files =
        new IssuedFiles(
            dir.resolve("cert-chain.pem"), dir.resolve("key.pem"), dir.resolve("root-cert.pem"));
    Files.writeString(files.certificate(), String.join("", response.getCertChainList()));
    // PKCS#8, which grpc-java's file_watcher provider reads.
    Files.writeString(
        files.key(),
        pem(
            new org.bouncycastle.util.io.pem.PemObject(
                "PRIVATE KEY", key.getPrivate().getEncoded())));
    Files.writeString(files.root(), rootPem);
    return files;
  }

  /**
   * A channel to Bosun's TLS port as {@code istiod.istio-system.svc}, trusting only {@code
   * rootPem}, sending {@code token} as a bearer token on every call (none when null).
   */
  static ManagedChannel secureChannel(int securePort, String rootPem, String token)
      throws IOException {
    var builder =
        Grpc.newChannelBuilder(
                "127.0.0.1:" + securePort,
                TlsChannelCredentials.newBuilder()
                    .trustManager(
                        new ByteArrayInputStream(rootPem.getBytes(StandardCharsets.UTF_8)))
                    .build())
            .overrideAuthority("istiod.istio-system.svc");
    if (token != null) {
      Metadata headers = new Metadata();
      headers.put(TokenAuthenticator.AUTHORIZATION, "Bearer " + token);
      builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    return builder.build();
  }

  /** One CreateCertificate call over TLS to {@code istiod.istio-system.svc}. */
  static IstioCertificateResponse call(
      int securePort, String rootPem, String token, String csrPem, long validitySeconds)
      throws IOException {
    ManagedChannel channel = secureChannel(securePort, rootPem, token);
    try {
      return ClientCalls.blockingUnaryCall(
          channel,
          IstioCertificateService.CREATE_CERTIFICATE,
          io.grpc.CallOptions.DEFAULT,
          IstioCertificateRequest.newBuilder()
              .setCsr(csrPem)
              .setValidityDuration(validitySeconds)
              .build());
    } finally {
      channel.shutdownNow();
    }
  }

  static String csr(KeyPair key, String spiffeId) throws IOException, OperatorCreationException {
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(
        Extension.subjectAlternativeName,
        true,
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId)));
    PKCS10CertificationRequest request =
        new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), key.getPublic())
            .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()));
    return pem(request);
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
