package dev.lineserver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * Builds a server {@link SSLContext} for {@link LineServer.Builder#tls} from PEM files, as {@code
 * openssl} writes them: a certificate chain (server certificate first) and an unencrypted PKCS#8
 * private key ({@code -----BEGIN PRIVATE KEY-----}, EC or RSA), and, to verify client certificates,
 * the trusted CA certificates.
 *
 * <pre>{@code
 * .tls(PemFiles.serverContext(Path.of("server.pem"), Path.of("server.key"), Path.of("ca.pem")))
 * .clientAuth(ClientAuth.REQUIRED)
 * }</pre>
 */
public final class PemFiles {
  private static final String BEGIN_KEY = "-----BEGIN PRIVATE KEY-----";
  private static final String END_KEY = "-----END PRIVATE KEY-----";
  private static final char[] NO_PASSWORD = new char[0];

  private PemFiles() {}

  /**
   * A context presenting {@code certificateChain} with {@code privateKey}, trusting the JDK's
   * default CAs for client certificates.
   *
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if a file holds no certificate, or no PKCS#8 key; the message
   *     names the file
   */
  public static SSLContext serverContext(Path certificateChain, Path privateKey)
      throws IOException {
    return serverContext(certificateChain, privateKey, null);
  }

  /**
   * A context presenting {@code certificateChain} with {@code privateKey}, trusting the
   * certificates in {@code trustedCertificates} (or the JDK's default CAs if {@code null}) for
   * client certificates.
   *
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if a file holds no certificate, or no PKCS#8 key; the message
   *     names the file
   */
  public static SSLContext serverContext(
      Path certificateChain, Path privateKey, @Nullable Path trustedCertificates)
      throws IOException {
    List<Certificate> chain = certificates(certificateChain);
    PrivateKey key = privateKey(privateKey);
    try {
      KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
      keys.load(null, null);
      keys.setKeyEntry("server", key, NO_PASSWORD, chain.toArray(new Certificate[0]));
      KeyManagerFactory keyManagers =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, NO_PASSWORD);
      TrustManagerFactory trustManagers =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (trustedCertificates == null) {
        trustManagers.init((KeyStore) null);
      } else {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        int n = 0;
        for (Certificate certificate : certificates(trustedCertificates)) {
          trusted.setCertificateEntry("trusted-" + n++, certificate);
        }
        trustManagers.init(trusted);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "certificateChain: " + certificateChain + " with privateKey: " + privateKey + ": " + e,
          e);
    }
  }

  private static List<Certificate> certificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      List<Certificate> certificates =
          List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
      if (certificates.isEmpty()) {
        throw new IllegalArgumentException(
            file + ": no certificate (expected: PEM -----BEGIN CERTIFICATE----- blocks)");
      }
      return certificates;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          file
              + ": no certificate read ("
              + e.getMessage()
              + "; expected: PEM -----BEGIN CERTIFICATE----- blocks)",
          e);
    }
  }

  private static PrivateKey privateKey(Path file) throws IOException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    int begin = pem.indexOf(BEGIN_KEY);
    int end = pem.indexOf(END_KEY, Math.max(begin, 0));
    if (begin < 0 || end < 0) {
      throw new IllegalArgumentException(
          file
              + ": no "
              + BEGIN_KEY
              + " block (expected: an unencrypted PKCS#8 key; convert with"
              + " 'openssl pkcs8 -topk8 -nocrypt -in <key> -out <key>.pk8')");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(begin + BEGIN_KEY.length(), end));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": bad base64 in the key block", e);
    }
    for (String algorithm : new String[] {"EC", "RSA"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (InvalidKeySpecException | NoSuchAlgorithmException e) {
        // try the next algorithm
      }
    }
    throw new IllegalArgumentException(
        file + ": the PKCS#8 key is neither EC nor RSA (expected: one of them)");
  }
}
