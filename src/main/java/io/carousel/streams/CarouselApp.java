package io.carousel.streams;

import io.carousel.config.CarouselConfig;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running processor: the embedded broker (when no brokers are configured), Carousel's topics,
 * and one Kafka Streams instance over {@link CarouselTopology}. {@code run} uses it, and so do the
 * end-to-end tests, so they exercise the same start-up and shut-down path.
 *
 * <p>Lifecycle: {@link #prepare} starts the broker if needed, creates the missing topics and builds
 * the Kafka Streams instance without starting it; {@link #start} starts it; {@link #close} stops
 * Kafka Streams (bounded by a timeout) and then the broker. Close is idempotent and safe from a
 * shutdown hook. A failure inside Kafka Streams shuts this client down (its state becomes
 * PENDING_ERROR, then ERROR) and is kept for {@link #failure()}; it is never retried in a loop.
 */
public final class CarouselApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CarouselApp.class);

    /** How long Kafka Streams may take to commit and stop on close. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** How long start-up waits for the configured brokers to answer. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    /** Notified of Kafka Streams' state changes, on a Kafka Streams thread: keep it short, never close from it. */
    public interface StateListener {
        void onChange(KafkaStreams.State newState, KafkaStreams.State oldState);
    }

    /**
     * What {@code run} adds to the configuration: the host:port this instance's HTTP server is
     * reached at (Kafka Streams' application.server, unless the configuration sets it; null = none)
     * and where the topology reports what it does.
     */
    public record Options(String applicationServer, Telemetry telemetry) {
        public static final Options NONE = new Options(null, Telemetry.NONE);
    }

    private final CarouselConfig config;
    private final StreamSettings settings;
    private final ModelSource models;
    private final ControlChannel control;
    private final EmbeddedKafka broker;
    /** The threads that retrain models off the stream threads; stopped after Kafka Streams. */
    private final Trainers trainers;
    private final String bootstrapServers;
    private final Properties properties;
    private final KafkaStreams streams;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch running = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile StateListener listener = (n, o) -> { };
    private volatile boolean closing;
    private boolean closed;

    private CarouselApp(CarouselConfig config, StreamSettings settings, ModelSource models, EmbeddedKafka broker,
                        Trainers trainers, String bootstrapServers, Properties properties, Topology topology) {
        this.config = config;
        this.settings = settings;
        this.models = models;
        this.control = new ControlChannel(config.topicControl(), properties);
        this.broker = broker;
        this.trainers = trainers;
        this.bootstrapServers = bootstrapServers;
        this.properties = properties;
        this.streams = new KafkaStreams(topology, properties);
        streams.setStateListener(this::stateChanged);
        // Kafka Streams logs the exception itself; keep it for failure() and stop this client
        streams.setUncaughtExceptionHandler(e -> {
            failure.compareAndSet(null, e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    }

    /**
     * Starts the embedded broker if {@code bootstrap.servers} is empty, creates the missing topics and
     * builds (does not start) Kafka Streams. On failure everything already started is stopped again.
     *
     * @throws IllegalArgumentException for a configuration that cannot work (e.g. an unreadable model.init)
     * @throws io.carousel.kafka.EmbeddedKafkaException if the embedded broker cannot start (one-line message)
     * @throws IllegalStateException if the brokers do not answer or refuse to create a topic (one-line message)
     * @throws KafkaException if Kafka Streams cannot be created (e.g. its state directory is in use)
     */
    public static CarouselApp prepare(CarouselConfig config) {
        return prepare(config, message -> { });
    }

    /**
     * As {@link #prepare(CarouselConfig)}, telling {@code progress} what it is about to do that may
     * take a while (starting the embedded broker, connecting to the brokers).
     */
    public static CarouselApp prepare(CarouselConfig config, Consumer<String> progress) {
        return prepare(config, progress, Options.NONE);
    }

    /** As {@link #prepare(CarouselConfig, Consumer)}, with {@code run}'s additions. */
    public static CarouselApp prepare(CarouselConfig config, Consumer<String> progress, Options options) {
        StreamSettings settings = StreamSettings.from(config);
        ModelSource models = ModelSource.from(settings);
        if (config.embedded() && config.topicReplication() > 1) {
            throw new IllegalArgumentException("config key topic.replication: " + config.topicReplication()
                    + " replicas need as many brokers; the embedded broker is a single node (set topic.replication=1,"
                    + " or bootstrap.servers to use a cluster)");
        }
        Trainers trainers = new Trainers(settings.retrain());
        EmbeddedKafka broker = null;
        try {
            Topology topology = CarouselTopology.build(settings, models, trainers, options.telemetry());
            String bootstrap;
            if (config.embedded()) {
                progress.accept("starting the embedded Kafka broker on 127.0.0.1:" + config.embeddedPort()
                        + " (data in " + config.embeddedDir().toAbsolutePath().normalize() + ")");
                broker = EmbeddedKafka.start(config.embeddedDir(), config.embeddedPort(), config.embeddedControllerPort());
                bootstrap = broker.bootstrapServers();
                ensureTopics(broker.admin(), config, (short) 1);
            } else {
                bootstrap = config.bootstrapServers();
                progress.accept("connecting to Kafka at " + bootstrap);
                Properties props = streamsProperties(config, bootstrap);
                try (Admin admin = Admin.create(adminConfigs(props))) {
                    awaitCluster(admin, bootstrap);
                    ensureTopics(admin, config, config.topicReplication());
                }
            }
            Properties props = streamsProperties(config, bootstrap);
            if (options.applicationServer() != null) {
                props.putIfAbsent(StreamsConfig.APPLICATION_SERVER_CONFIG, options.applicationServer());
            }
            return new CarouselApp(config, settings, models, broker, trainers, bootstrap, props, topology);
        } catch (RuntimeException e) {
            trainers.close();
            if (broker != null) {
                try {
                    broker.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * The Kafka Streams settings {@code run} uses: the configuration's, plus, unless set there,
     * Kafka Streams' own dead-letter queue (KIP-1034) on the dead-letter topic and the log-and-continue
     * handlers for records that cannot be deserialised or whose processing throws, and
     * {@link ProductionHandler} for outputs too large to send, so that one bad record is recorded
     * and skipped rather than stopping the stream.
     */
    public static Properties streamsProperties(CarouselConfig config, String bootstrapServers) {
        Properties p = config.streamsProperties(bootstrapServers);
        p.putIfAbsent(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, config.topicDeadLetter());
        @SuppressWarnings("deprecation")
        String oldDeserializationHandler = StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG;
        if (!p.containsKey(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG)
                && !p.containsKey(oldDeserializationHandler)) {
            p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class.getName());
        }
        p.putIfAbsent(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
                LogAndContinueProcessingExceptionHandler.class.getName());
        @SuppressWarnings("deprecation")
        String oldProductionHandler = StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG;
        if (!p.containsKey(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG) && !p.containsKey(oldProductionHandler)) {
            p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, ProductionHandler.class.getName());
        }
        return p;
    }

    /**
     * Creates Carousel's topics that do not exist yet: {@link #topics} with {@code replication}
     * replicas, and the models topic, compacted (the latest version of each model is what counts).
     */
    public static void ensureTopics(Admin admin, CarouselConfig config, short replication) {
        Topics.ensure(admin, topics(config), replication, Map.of());
        Topics.ensure(admin, Map.of(config.topicModels(), config.topicPartitions()), replication,
                Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        // a control record must land in the partition of its key's task: the same count as the events
        Topics.ensure(admin, Map.of(config.topicControl(), config.topicPartitions()), replication, Map.of());
        int events = Topics.partitions(admin, config.topicEvents());
        int control = Topics.partitions(admin, config.topicControl());
        if (events != control) {
            throw new IllegalStateException("topic " + config.topicControl() + " has " + control + " partitions but "
                    + config.topicEvents() + " has " + events + "; they must be equal (delete " + config.topicControl()
                    + " and Carousel creates it anew)");
        }
    }

    /** Carousel's data topics (events, enriched, forecasts, anomalies, dead-letter) with their partition counts, in that order. */
    public static Map<String, Integer> topics(CarouselConfig config) {
        Map<String, Integer> t = new LinkedHashMap<>();
        for (String name : List.of(config.topicEvents(), config.topicEnriched(), config.topicForecasts(),
                config.topicAnomalies(), config.topicDeadLetter())) {
            t.put(name, config.topicPartitions());
        }
        return t;
    }

    /** The admin-client settings within Kafka Streams settings (security and the like included, admin. prefix applied). */
    public static Map<String, Object> adminConfigs(Properties streamsProperties) {
        Map<String, Object> admin = clientConfigs(streamsProperties, AdminClientConfig.configNames(),
                StreamsConfig.ADMIN_CLIENT_PREFIX);
        admin.put(AdminClientConfig.CLIENT_ID_CONFIG, "carousel-admin");
        return admin;
    }

    /**
     * The settings of one kind of client within Kafka Streams settings: those it knows by name,
     * then those under its prefix (which win). Unlike StreamsConfig's own accessors this adds no
     * Streams defaults and logs nothing.
     */
    public static Map<String, Object> clientConfigs(Properties streamsProperties, Set<String> names, String prefix) {
        Map<String, Object> c = new HashMap<>();
        for (String key : streamsProperties.stringPropertyNames()) {
            if (names.contains(key)) {
                c.put(key, streamsProperties.getProperty(key));
            }
        }
        for (String key : streamsProperties.stringPropertyNames()) {
            if (key.startsWith(prefix) && key.length() > prefix.length()) {
                c.put(key.substring(prefix.length()), streamsProperties.getProperty(key));
            }
        }
        return c;
    }

    private static void awaitCluster(Admin admin, String bootstrap) {
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) CONNECT_TIMEOUT.toMillis()))
                    .nodes().get(CONNECT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new IllegalStateException("no Kafka broker answered at " + bootstrap + " within "
                        + CONNECT_TIMEOUT.toSeconds() + " s", cause);
            }
            throw new IllegalStateException("cannot connect to Kafka at " + bootstrap + ": " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no Kafka broker answered at " + bootstrap + " within "
                    + CONNECT_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to " + bootstrap, e);
        }
    }

    /** Receives every later state change (set it before {@link #start}). */
    public void setStateListener(StateListener listener) {
        this.listener = listener == null ? (n, o) -> { } : listener;
    }

    /** Starts Kafka Streams; it runs on its own threads until {@link #close}. */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        streams.start();
    }

    private void stateChanged(KafkaStreams.State newState, KafkaStreams.State oldState) {
        LOG.debug("Kafka Streams {} -> {}", oldState, newState);
        if (newState == KafkaStreams.State.RUNNING) {
            running.countDown();
        }
        if (newState == KafkaStreams.State.PENDING_ERROR || newState == KafkaStreams.State.ERROR
                || newState == KafkaStreams.State.PENDING_SHUTDOWN || newState == KafkaStreams.State.NOT_RUNNING) {
            stopped.countDown();
        }
        try {
            listener.onChange(newState, oldState);
        } catch (RuntimeException e) {
            LOG.warn("state listener failed", e);
        }
    }

    /** Waits until Kafka Streams is RUNNING for the first time; false on timeout or if it stopped first. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (running.await(50, TimeUnit.MILLISECONDS)) {
                return true;
            }
            if (stopped.getCount() == 0) {
                return false;
            }
        }
        return false;
    }

    /**
     * Waits until Kafka Streams stops or fails (not because {@link #close} was called); true if it did
     * within the timeout.
     */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** True once Kafka Streams has failed or stopped (for whatever reason). */
    public boolean hasStopped() {
        return stopped.getCount() == 0;
    }

    /** True if {@link #close} has begun: a stop that follows is expected, not a failure. */
    public boolean isClosing() {
        return closing;
    }

    /** The error that stopped Kafka Streams, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** The settings the topology runs with. */
    public StreamSettings settings() {
        return settings;
    }

    /** The model every key starts from. */
    public ModelSource models() {
        return models;
    }

    /** Where the HTTP API sends feedback and rollbacks; closed with this app. */
    public ControlChannel control() {
        return control;
    }

    /** The Kafka Streams instance (for metrics and interactive queries); {@link #close} stops it. */
    public KafkaStreams streams() {
        return streams;
    }

    public CarouselConfig config() {
        return config;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The embedded broker, if this app started one. */
    public Optional<EmbeddedKafka> broker() {
        return Optional.ofNullable(broker);
    }

    public String applicationId() {
        return properties.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
    }

    public Path stateDir() {
        return Path.of(properties.getProperty(StreamsConfig.STATE_DIR_CONFIG)).toAbsolutePath().normalize();
    }

    public String processingGuarantee() {
        return properties.getProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG);
    }

    /** The effective Kafka Streams settings (a copy). */
    public Properties properties() {
        Properties p = new Properties();
        p.putAll(properties);
        return p;
    }

    /**
     * Leave the consumer group on close, so that the partitions move (to other instances, or to
     * this one when it restarts) at once instead of after session.timeout.ms; except with static
     * membership (group.instance.id), which exists to keep them through a restart.
     */
    private CloseOptions.GroupMembershipOperation membershipOnClose() {
        boolean staticMember = properties.stringPropertyNames().stream()
                .anyMatch(k -> k.equals(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)
                        || k.endsWith("." + ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        return staticMember ? CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP
                : CloseOptions.GroupMembershipOperation.LEAVE_GROUP;
    }

    /** Stops Kafka Streams within {@link #CLOSE_TIMEOUT}, then the embedded broker. */
    @Override
    public void close() {
        close(CLOSE_TIMEOUT);
    }

    /**
     * Stops Kafka Streams within {@code timeout}, then the embedded broker; returns false if Kafka
     * Streams did not stop in time (the broker is stopped anyway). Idempotent.
     */
    public synchronized boolean close(Duration timeout) {
        if (closed) {
            return true;
        }
        closing = true;
        closed = true;
        boolean clean = true;
        try {
            clean = streams.close(CloseOptions.timeout(timeout).withGroupMembershipOperation(membershipOnClose()));
            if (!clean) {
                LOG.warn("Kafka Streams did not stop within {} s", timeout.toSeconds());
            }
        } finally {
            try {
                control.close();
                trainers.close();
            } finally {
                if (broker != null) {
                    broker.close();
                }
            }
        }
        return clean;
    }

    /**
     * Kafka's default production handling, except for an output record too large to send (an event
     * near the size limit, grown by its forecast fields) to one of Carousel's own topics (never a
     * changelog or repartition topic, whose loss would go unnoticed): that output is skipped and a
     * dead letter says so, instead of failing the task, which would fail again on the same event
     * after every restart. The dead letter carries the KIP-1034 headers and reason TOO_LARGE, but
     * not the event itself (it would be too large as well; its topic, partition and offset say
     * where it is).
     *
     * <p>That works with at_least_once. With exactly_once_v2 the failed send has already put the
     * producer's transaction in an error state, so the task fails whatever the handler answers:
     * there, only the topology can help, by never emitting a record above the limit.
     *
     * <p>Kafka Streams 4.4 needs this handler for a second reason: with a dead-letter topic
     * configured, its default handler answers a too-large record with a dead-letter record holding
     * the same bytes, which is too large too, and the two recurse until the stream thread dies of a
     * StackOverflowError.
     */
    public static final class ProductionHandler implements ProductionExceptionHandler {
        private static final Logger HLOG = LoggerFactory.getLogger(ProductionHandler.class);
        private final DefaultProductionExceptionHandler fallback = new DefaultProductionExceptionHandler();
        private String deadLetterTopic;
        private String internalPrefix;

        @Override
        public void configure(Map<String, ?> configs) {
            fallback.configure(configs);
            Object t = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
            deadLetterTopic = t == null || t.toString().isBlank() ? null : t.toString();
            internalPrefix = configs.get(StreamsConfig.APPLICATION_ID_CONFIG) + "-";
        }

        @Override
        public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
            // a changelog or repartition record that is skipped would silently lose state or events: fail
            if (!(exception instanceof RecordTooLargeException) || isInternal(record.topic())) {
                return fallback.handleError(context, record, exception);
            }
            int size = record.value() == null ? 0 : record.value().length;
            String message = "the output to " + record.topic() + " (" + size + " bytes) is too large to send: "
                    + exception.getMessage();
            if (deadLetterTopic == null || deadLetterTopic.equals(record.topic())) {
                HLOG.warn("skipped an output of the event at {}-{}@{}: {}", context.topic(), context.partition(),
                        context.offset(), message);
                return Response.resume();
            }
            HLOG.warn("skipped an output of the event at {}-{}@{} (see {}): {}", context.topic(), context.partition(),
                    context.offset(), deadLetterTopic, message);
            // the event's own key if Kafka kept it, else the output's (the series key)
            byte[] key = context.sourceRawKey() != null ? context.sourceRawKey() : record.key();
            ProducerRecord<byte[], byte[]> dead = new ProducerRecord<>(deadLetterTopic, null, key, null);
            header(dead, DeadLetters.EXCEPTION, exception.getClass().getName());
            header(dead, DeadLetters.MESSAGE, message);
            header(dead, DeadLetters.REASON, Rejection.Reason.TOO_LARGE.name());
            if (context.topic() != null) {
                header(dead, DeadLetters.TOPIC, context.topic());
                header(dead, DeadLetters.PARTITION, Integer.toString(context.partition()));
                header(dead, DeadLetters.OFFSET, Long.toString(context.offset()));
            }
            return Response.resume(List.of(dead));
        }

        private boolean isInternal(String topic) {
            return topic.startsWith(internalPrefix) && (topic.endsWith("-changelog") || topic.endsWith("-repartition"));
        }

        private static void header(ProducerRecord<byte[], byte[]> r, String key, String value) {
            r.headers().add(key, value.getBytes(StandardCharsets.UTF_8));
        }
    }
}
