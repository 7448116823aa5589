package dev.lineserver.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;

/**
 * A throwaway PKI made with the JDK's {@code keytool} (EC P-256): a CA, a server certificate for
 * localhost and client certificates, each as a PKCS#12 key store, a PEM chain and a PEM (PKCS#8,
 * unencrypted) private key, for the JDK and for {@code openssl}/{@code socat} alike. Every password
 * is {@link #PASSWORD}. Files, per entity {@code <name>}: {@code <name>.p12}, {@code <name>.pem}
 * (leaf first, then the issuer), {@code <name>.key.pem}; plus {@code ca.pem}, {@code trust.p12} and
 * {@code all.p12} (every entry, read by {@link #load}).
 */
public final class TestPki {
  public static final String PASSWORD = "changeit";

  /** The CA that {@link #trustStore} trusts: {@code CN=line-server test CA}. */
  public static final String CA = "ca";

  /**
   * An untrusted CA named like {@link #CA} (another key), signer of {@link #UNTRUSTED_CLIENT}: a
   * client offers that certificate when a server asks for one from {@link #CA}.
   */
  public static final String ROGUE_CA = "rogue-ca";

  /** {@code CN=localhost}, SAN {@code dns:localhost, ip:127.0.0.1}, issued by {@link #CA}. */
  public static final String SERVER = "server";

  /**
   * Like {@link #SERVER}, with 1,400 more DNS names: a certificate of about 54 KB, so that the
   * server's handshake flight is longer than two TLS records (and than the 32 KiB a JDK client
   * accepts by default: {@code jdk.tls.maxHandshakeMessageSize}, raised for the tests in the pom).
   */
  public static final String BIG_SERVER = "big-server";

  /** How many DNS names {@link #BIG_SERVER} has besides localhost. */
  public static final int BIG_SERVER_NAMES = 1400;

  /** Like {@link #SERVER}, but expired a month ago. */
  public static final String EXPIRED_SERVER = "expired-server";

  /** {@code CN=trusted client}, issued by {@link #CA}. */
  public static final String CLIENT = "client";

  /** {@code CN=untrusted client}, issued by {@link #ROGUE_CA}. */
  public static final String UNTRUSTED_CLIENT = "untrusted-client";

  /** {@code CN=expired client}, issued by {@link #CA}, expired a month ago. */
  public static final String EXPIRED_CLIENT = "expired-client";

  private static final long KEYTOOL_TIMEOUT_SECONDS = 60;
  private static @Nullable TestPki shared;

  private final Path dir;
  private final KeyStore all;

  private TestPki(Path dir, KeyStore all) {
    this.dir = dir;
    this.all = all;
  }

  /** One PKI per JVM, in a temporary directory deleted at exit. */
  public static synchronized TestPki shared() throws IOException, GeneralSecurityException {
    TestPki pki = shared;
    if (pki == null) {
      Path dir = Files.createTempDirectory("line-server-pki");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir), "test-pki-cleanup"));
      pki = create(dir);
      shared = pki;
    }
    return pki;
  }

  /** Creates the PKI's files in {@code dir}, which should be empty. */
  public static TestPki create(Path dir) throws IOException, GeneralSecurityException {
    Path store = dir.resolve("all.p12");
    String caName = "CN=line-server test CA";
    String localhost = "san=dns:localhost,ip:127.0.0.1";
    keytool(store, CA, null, caName, "-ext", "bc:c", "-validity", "3650");
    keytool(store, ROGUE_CA, null, caName, "-ext", "bc:c", "-validity", "3650");
    keytool(store, SERVER, CA, "CN=localhost", "-ext", localhost, "-validity", "3650");
    StringBuilder names = new StringBuilder(localhost);
    for (int i = 1; i <= BIG_SERVER_NAMES; i++) {
      names.append(String.format(",dns:host-%04d.big-chain.line-server.test", i));
    }
    keytool(store, BIG_SERVER, CA, "CN=localhost", "-ext", names.toString(), "-validity", "3650");
    keytool(store, CLIENT, CA, "CN=trusted client", "-validity", "3650");
    keytool(store, UNTRUSTED_CLIENT, ROGUE_CA, "CN=untrusted client", "-validity", "3650");
    String[] expired = {"-startdate", "-30d", "-validity", "1"};
    keytool(store, EXPIRED_SERVER, CA, "CN=localhost", concat(expired, "-ext", localhost));
    keytool(store, EXPIRED_CLIENT, CA, "CN=expired client", expired);

    TestPki pki = load(dir);
    for (String name :
        List.of(SERVER, BIG_SERVER, EXPIRED_SERVER, CLIENT, UNTRUSTED_CLIENT, EXPIRED_CLIENT)) {
      pki.exportEntity(name);
    }
    Files.writeString(dir.resolve("ca.pem"), pem("CERTIFICATE", pki.caCertificate().getEncoded()));
    store(pki.trustStore(), dir.resolve("trust.p12"));
    return pki;
  }

  /** Opens a PKI that {@link #create} made in {@code dir}, e.g. from another JVM. */
  public static TestPki load(Path dir) throws IOException, GeneralSecurityException {
    KeyStore all = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve("all.p12"))) {
      all.load(in, PASSWORD.toCharArray());
    }
    return new TestPki(dir, all);
  }

  public Path dir() {
    return dir;
  }

  /** The PKCS#12 key store holding {@code name}'s key and chain. */
  public Path keyStoreFile(String name) {
    return dir.resolve(name + ".p12");
  }

  /** {@code name}'s certificate chain in PEM, leaf first. */
  public Path chainPem(String name) {
    return dir.resolve(name + ".pem");
  }

  /** {@code name}'s private key in PEM (PKCS#8, unencrypted). */
  public Path keyPem(String name) {
    return dir.resolve(name + ".key.pem");
  }

  /** {@link #CA}'s certificate in PEM. */
  public Path caPem() {
    return dir.resolve("ca.pem");
  }

  /** A PKCS#12 trust store holding {@link #CA}'s certificate. */
  public Path trustStoreFile() {
    return dir.resolve("trust.p12");
  }

  public X509Certificate caCertificate() throws GeneralSecurityException {
    return (X509Certificate) all.getCertificate(CA);
  }

  /** A key store holding only {@link #CA}'s certificate, as a trusted entry. */
  public KeyStore trustStore() throws GeneralSecurityException, IOException {
    KeyStore trust = emptyStore();
    trust.setCertificateEntry(CA, caCertificate());
    return trust;
  }

  /** A key store holding only {@code name}'s key and chain. */
  public KeyStore keyStore(String name) throws GeneralSecurityException, IOException {
    KeyStore keys = emptyStore();
    keys.setKeyEntry(name, key(name), PASSWORD.toCharArray(), all.getCertificateChain(name));
    return keys;
  }

  /**
   * A context presenting {@code name}'s certificate and trusting {@link #CA} if {@code trustCa},
   * else the JDK's default trust anchors.
   */
  public SSLContext context(@Nullable String name, boolean trustCa)
      throws GeneralSecurityException, IOException {
    KeyManager @Nullable [] keyManagers = null;
    if (name != null) {
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(keyStore(name), PASSWORD.toCharArray());
      keyManagers = keys.getKeyManagers();
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trustCa ? trustStore() : null);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers, trust.getTrustManagers(), null);
    return context;
  }

  /** A server presenting {@link #SERVER} and trusting client certificates from {@link #CA}. */
  public SSLContext serverContext() throws GeneralSecurityException, IOException {
    return context(SERVER, true);
  }

  /**
   * Like {@link #serverContext()}, with a key manager that runs {@code beforeChoosing} each time a
   * server engine chooses its key, on the thread that runs the handshake's delegated task. The hook
   * may block, count, or throw.
   */
  public SSLContext serverContext(Runnable beforeChoosing)
      throws GeneralSecurityException, IOException {
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(keyStore(SERVER), PASSWORD.toCharArray());
    X509ExtendedKeyManager delegate = (X509ExtendedKeyManager) keys.getKeyManagers()[0];
    X509ExtendedKeyManager hooked = new HookedKeyManager(delegate, beforeChoosing);
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trustStore());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(new KeyManager[] {hooked}, trust.getTrustManagers(), null);
    return context;
  }

  /** A server key manager that runs a hook before it chooses, else its delegate's answers. */
  private static final class HookedKeyManager extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager delegate;
    private final Runnable hook;

    HookedKeyManager(X509ExtendedKeyManager delegate, Runnable hook) {
      this.delegate = delegate;
      this.hook = hook;
    }

    @Override
    public @Nullable String chooseEngineServerAlias(
        String keyType, Principal @Nullable [] issuers, SSLEngine engine) {
      hook.run();
      return delegate.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public @Nullable String chooseServerAlias(
        String keyType, Principal @Nullable [] issuers, Socket socket) {
      hook.run();
      return delegate.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String @Nullable [] getServerAliases(String keyType, Principal @Nullable [] issuers) {
      return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public String @Nullable [] getClientAliases(String keyType, Principal @Nullable [] issuers) {
      return delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public @Nullable String chooseClientAlias(
        String[] keyType, Principal @Nullable [] issuers, Socket socket) {
      return delegate.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate @Nullable [] getCertificateChain(String alias) {
      return delegate.getCertificateChain(alias);
    }

    @Override
    public @Nullable PrivateKey getPrivateKey(String alias) {
      return delegate.getPrivateKey(alias);
    }
  }

  /** A client presenting {@code name}'s certificate (none if null), trusting {@link #CA}. */
  public SSLContext clientContext(@Nullable String name)
      throws GeneralSecurityException, IOException {
    return context(name, true);
  }

  private PrivateKey key(String name) throws GeneralSecurityException {
    return (PrivateKey) all.getKey(name, PASSWORD.toCharArray());
  }

  private void exportEntity(String name) throws GeneralSecurityException, IOException {
    store(keyStore(name), keyStoreFile(name));
    StringBuilder chain = new StringBuilder();
    for (Certificate certificate : all.getCertificateChain(name)) {
      chain.append(pem("CERTIFICATE", certificate.getEncoded()));
    }
    Files.writeString(chainPem(name), chain);
    Files.writeString(keyPem(name), pem("PRIVATE KEY", key(name).getEncoded()));
  }

  private static String pem(String type, byte[] der) {
    String base64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
  }

  private static KeyStore emptyStore() throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    return store;
  }

  private static void store(KeyStore store, Path file)
      throws GeneralSecurityException, IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, PASSWORD.toCharArray());
    }
  }

  /** Generates {@code alias}'s key pair and certificate, signed by {@code signer} or by itself. */
  private static void keytool(
      Path store, String alias, @Nullable String signer, String dname, String... options)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(
        List.of(
            "-genkeypair",
            "-alias",
            alias,
            "-dname",
            dname,
            "-keyalg",
            "EC",
            "-groupname",
            "secp256r1",
            "-keystore",
            store.toString(),
            "-storetype",
            "PKCS12",
            "-storepass",
            PASSWORD,
            "-keypass",
            PASSWORD));
    if (signer != null) {
      command.addAll(List.of("-signer", signer, "-signerkeypass", PASSWORD));
    }
    command.addAll(List.of(options));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getOutputStream().close();
    try {
      if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(
            "keytool timed out after " + KEYTOOL_TIMEOUT_SECONDS + " s: " + command);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for keytool", e);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IOException(
          "keytool exited " + process.exitValue() + ": " + command + "\n" + output);
    }
  }

  private static String[] concat(String[] first, String... rest) {
    return Stream.concat(Stream.of(first), Stream.of(rest)).toArray(String[]::new);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      // A leftover temporary directory is harmless.
    }
  }
}
