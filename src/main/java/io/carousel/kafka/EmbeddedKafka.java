package io.carousel.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka cluster (one KRaft broker+controller) inside this JVM: what {@code run}
 * uses when no brokers are configured, and what the tests use.
 *
 * <p>The data directory is the broker's log directory and outlives the process: it is formatted
 * once (its meta.properties then holds the cluster id), so a restarted {@code run} finds its
 * topics, committed offsets and changelogs again.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final KafkaRaftServer server;
    private final Admin admin;
    private final Path dataDir;
    private final String clusterId;
    private final int port;
    private final int controllerPort;
    private boolean closed;

    private EmbeddedKafka(KafkaRaftServer server, Admin admin, Path dataDir, String clusterId,
                          int port, int controllerPort) {
        this.server = server;
        this.admin = admin;
        this.dataDir = dataDir;
        this.clusterId = clusterId;
        this.port = port;
        this.controllerPort = controllerPort;
    }

    /** Starts a broker on 127.0.0.1:{@code port} (0 = any free port) and waits until it serves requests. */
    public static EmbeddedKafka start(Path dataDir, int port, int controllerPort) {
        return start(dataDir, port, controllerPort, Map.of());
    }

    /**
     * As {@link #start(Path, int, int)}, with broker settings that override the single-node
     * defaults (e.g. {@code log.retention.hours}).
     */
    public static EmbeddedKafka start(Path dataDir, int port, int controllerPort, Map<String, String> brokerOverrides) {
        if (port != 0 && port == controllerPort) {
            throw fail("the broker port and the controller port are both " + port);
        }
        Path dir = dataDir.toAbsolutePath().normalize();
        int brokerPort = resolvePort(port);
        int ctlPort = resolvePort(controllerPort);
        while (ctlPort == brokerPort) {
            ctlPort = resolvePort(0);
        }
        checkNotLocked(dir);
        Properties props = brokerProperties(dir, brokerPort, ctlPort);
        props.putAll(brokerOverrides);
        String clusterId = formatIfNeeded(dir, props);

        KafkaRaftServer server;
        try {
            server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        } catch (ConfigException e) {
            throw fail("invalid broker setting: " + oneLine(e.getMessage()), e);
        }
        try {
            server.startup();
        } catch (Throwable e) {
            stopQuietly(server);
            throw translateStartupFailure(e, dir, brokerPort, ctlPort);
        }
        String bootstrap = HOST + ":" + brokerPort;
        Admin admin = null;
        try {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    AdminClientConfig.CLIENT_ID_CONFIG, "carousel-embedded-admin"));
            awaitReady(admin);
        } catch (RuntimeException e) {
            if (admin != null) {
                admin.close(Duration.ofSeconds(5));
            }
            stopQuietly(server);
            throw e;
        }
        LOG.info("embedded Kafka broker listening on {} (data in {})", bootstrap, dir);
        return new EmbeddedKafka(server, admin, dir, clusterId, brokerPort, ctlPort);
    }

    /** The value for bootstrap.servers: {@code 127.0.0.1:PORT}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    public int controllerPort() {
        return controllerPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    public String clusterId() {
        return clusterId;
    }

    /** An admin client on this broker, owned by this object: do not close it. */
    public Admin admin() {
        return admin;
    }

    /** Creates the topics that do not exist yet (name to partitions), each with {@code topicConfigs}. */
    public void createTopics(Map<String, Integer> partitions, Map<String, String> topicConfigs) {
        Topics.ensure(admin, partitions, (short) 1, topicConfigs);
    }

    /** Creates one topic unless it exists. */
    public void createTopic(String name, int partitions, Map<String, String> topicConfigs) {
        createTopics(Map.of(name, partitions), topicConfigs);
    }

    /** Stops the broker and waits until it has released its ports and data directory. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            admin.close(Duration.ofSeconds(5));
        } finally {
            server.shutdown();
            server.awaitShutdown();
        }
    }

    private static Properties brokerProperties(Path dir, int port, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(NODE_ID));
        // static quorum: the voter's address comes from this config on every start, so the
        // controller port may differ between runs of the same data directory
        p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        p.put("listeners", "PLAINTEXT://" + HOST + ":" + port + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.toString());
        // one node: every internal topic must accept one replica, or consumer groups,
        // transactions (exactly_once_v2) and Streams' internal topics never become available
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        // 50 partitions each (the defaults) only slow the first group join and transaction here
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("group.initial.rebalance.delay.ms", "0");
        // the log cleaner allocates its whole dedupe buffer up front (128 MB by default);
        // compacted topics on one node need far less
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(16L * 1024 * 1024));
        return p;
    }

    /** Formats the directory unless it already is; returns the cluster id stored in it. */
    private static String formatIfNeeded(Path dir, Properties props) {
        Path meta = dir.resolve("meta.properties");
        if (Files.exists(meta)) {
            return readClusterId(meta);
        }
        String clusterId = Uuid.randomUuid().toString();
        Path serverProps = null;
        try {
            Files.createDirectories(dir);
            serverProps = Files.createTempFile("carousel-kafka-format", ".properties");
            try (Writer w = Files.newBufferedWriter(serverProps, StandardCharsets.UTF_8)) {
                props.store(w, null);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int rc;
            try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
                rc = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", serverProps.toString()}, ps);
            }
            if (rc != 0) {
                String detail = oneLine(out.toString(StandardCharsets.UTF_8).strip());
                throw fail("cannot format the data directory " + dir + ": " + detail);
            }
            return clusterId;
        } catch (IOException e) {
            throw fail("cannot prepare the data directory " + dir + ": " + describe(e), e);
        } finally {
            if (serverProps != null) {
                try {
                    Files.deleteIfExists(serverProps);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    private static String readClusterId(Path meta) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(meta)) {
            p.load(in);
        } catch (IOException e) {
            throw fail("cannot read " + meta + ": " + describe(e), e);
        }
        String id = p.getProperty("cluster.id");
        if (id == null || id.isBlank()) {
            throw fail(meta + " has no cluster.id; remove the data directory to start afresh");
        }
        return id;
    }

    /**
     * Kafka locks the directory only when the broker half starts, after the controller half has
     * already opened the metadata log; a second broker on a live directory must be stopped
     * before that. Kafka's own lock file is probed: a JVM cannot lock a file twice, and another
     * process's lock makes tryLock return null.
     */
    private static void checkNotLocked(Path dir) {
        Path lockFile = dir.resolve(".lock");
        if (!Files.exists(lockFile)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                throw fail("the data directory " + dir + " is in use by another Kafka broker");
            }
            lock.release();
        } catch (OverlappingFileLockException e) {
            throw fail("the data directory " + dir + " is in use by another Kafka broker", e);
        } catch (IOException e) {
            throw fail("cannot open " + lockFile + ": " + describe(e), e);
        }
    }

    private static String describe(IOException e) {
        if (e instanceof FileAlreadyExistsException) {
            return e.getMessage() + " exists and is not a directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied on " + e.getMessage();
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory " + e.getMessage();
        }
        return String.valueOf(e.getMessage());
    }

    /** 0 picks a free port now; a fixed port is checked here so a clash gives one clear line. */
    private static int resolvePort(int port) {
        if (port < 0 || port > 65535) {
            throw fail("port " + port + " is not between 0 and 65535");
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return s.getLocalPort();
        } catch (BindException e) {
            throw inUse(port);
        } catch (IOException e) {
            throw fail("cannot bind " + HOST + ":" + port + ": " + e.getMessage(), e);
        }
    }

    private static void awaitReady(Admin admin) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw fail("interrupted while waiting for the broker", e);
            }
            sleep(100);
        }
        throw fail("the broker did not become ready within " + READY_TIMEOUT.toSeconds() + " s", last);
    }

    private static EmbeddedKafkaException translateStartupFailure(Throwable e, Path dir, int port, int ctlPort) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String msg = String.valueOf(t.getMessage());
            if (t instanceof BindException || msg.contains("Address already in use")) {
                // the port was free a moment ago; name the one the message mentions if we can
                return inUse(msg.contains(":" + ctlPort) && !msg.contains(":" + port) ? ctlPort : port, e);
            }
            if (msg.contains("Failed to acquire lock")) {
                return fail("the data directory " + dir + " is in use by another Kafka broker", e);
            }
        }
        return fail(e.getClass().getSimpleName() + ": " + oneLine(e.getMessage()), e);
    }

    private static String oneLine(String s) {
        return String.valueOf(s).replaceAll("\\s*\\R\\s*", " ");
    }

    private static void stopQuietly(KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (Throwable t) {
            LOG.debug("while stopping a broker that failed to start", t);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail("interrupted while waiting for the broker", e);
        }
    }

    private static EmbeddedKafkaException inUse(int port) {
        return inUse(port, null);
    }

    private static EmbeddedKafkaException inUse(int port, Throwable cause) {
        return fail(HOST + ":" + port + " is already in use", cause);
    }

    private static EmbeddedKafkaException fail(String reason) {
        return fail(reason, null);
    }

    private static EmbeddedKafkaException fail(String reason, Throwable cause) {
        return new EmbeddedKafkaException("cannot start the embedded Kafka broker: " + reason, cause);
    }
}
