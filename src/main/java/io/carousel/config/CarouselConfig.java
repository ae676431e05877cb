package io.carousel.config;

import io.carousel.lstm.Loss;
import io.carousel.scoring.ScoringConfig;

import static io.carousel.config.ConfigKeys.*;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Carousel's configuration: a properties file, then {@code --set key=value} overrides.
 *
 * <p>Keys named in {@link ConfigKeys} are Carousel's; every other key is a Kafka setting passed
 * to Kafka Streams under its own name (and through Streams to its clients). Everything is
 * checked once, in the constructor, so a running topology never meets a bad value: every
 * problem surfaces as an IllegalArgumentException with a one-line message naming the key.
 * The typed accessors re-read the (already checked) text on each call, which is cheap; hold
 * what a hot path needs rather than calling them per event. Instances are immutable.
 */
public final class CarouselConfig {
    /** Where commands look for the configuration unless told otherwise. */
    public static final String DEFAULT_FILE = "config/application.properties";

    public enum TimestampFormat { AUTO, ISO, MILLIS, SECONDS, RECORD }

    public enum OutOfOrder { PROCESS, DEAD_LETTER }

    public enum ModelScope { KEY, GROUP, GLOBAL }

    /** What the LSTM forecasts (model.target). */
    public enum ModelTarget { LEVEL, CHANGE }

    public enum RetrainClock { STREAM, WALL }

    public enum RetrainMode { FINETUNE, SCRATCH }

    private final Map<String, String> carousel = new LinkedHashMap<>(DEFAULTS);
    private final Map<String, String> kafka = new TreeMap<>();
    private final Values v;

    private CarouselConfig(Map<String, String> settings) {
        settings.forEach((rawKey, rawValue) -> {
            String key = rawKey.strip();
            String value = rawValue == null ? "" : rawValue.strip();
            if (DEFAULTS.containsKey(key)) {
                carousel.put(key, value);
            } else if (KafkaKeys.isKafkaKey(key)) {
                // an empty Kafka setting means "Kafka's default": the shipped file lists some empty
                if (value.isEmpty()) {
                    kafka.remove(key);
                } else {
                    kafka.put(key, value);
                }
            } else {
                throw unknownKey(key);
            }
        });
        v = new Values(carousel);
        validate();
    }

    /** Defaults only, no file. */
    public static CarouselConfig defaults() {
        return new CarouselConfig(Map.of());
    }

    /** Defaults overridden by {@code settings}, no file: for tests and embedding. */
    public static CarouselConfig of(Map<String, String> settings) {
        return new CarouselConfig(settings);
    }

    /**
     * Reads {@code file} (null = none, defaults only), then applies {@code sets}, each
     * {@code key=value} as given to {@code --set}.
     */
    public static CarouselConfig load(Path file, List<String> sets) {
        return load(file, Map.of(), sets);
    }

    /** The prefix of environment variables that set configuration keys (see {@link #fromEnvironment}). */
    public static final String ENV_PREFIX = "CAROUSEL_";

    /**
     * Reads {@code file}, then the {@value #ENV_PREFIX}* variables of {@code env}, then {@code sets}:
     * each later source overrides the earlier ones.
     */
    public static CarouselConfig load(Path file, Map<String, String> env, List<String> sets) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (file != null) {
            settings.putAll(readFile(file));
        }
        settings.putAll(fromEnvironment(env));
        for (String set : sets == null ? List.<String>of() : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0 || set.substring(0, eq).isBlank()) {
                throw new IllegalArgumentException("--set expects key=value, got '" + set + "'");
            }
            settings.put(set.substring(0, eq).strip(), set.substring(eq + 1));
        }
        return new CarouselConfig(settings);
    }

    /**
     * The settings of environment variables named {@value #ENV_PREFIX} and a key upper-cased with
     * '.' and '-' as '_' (container platforms allow nothing else): {@code CAROUSEL_BOOTSTRAP_SERVERS}
     * is bootstrap.servers, {@code CAROUSEL_TOPIC_DEAD_LETTER} topic.dead-letter,
     * {@code CAROUSEL_PRODUCER_LINGER_MS} producer.linger.ms. A variable with the prefix that names no
     * key is refused, as an unknown key in the file is.
     */
    static Map<String, String> fromEnvironment(Map<String, String> env) {
        Map<String, String> byEnvName = new java.util.HashMap<>();
        for (String key : DEFAULTS.keySet()) {
            byEnvName.put(envName(key), key);
        }
        for (String key : KafkaKeys.NAMES) {
            byEnvName.putIfAbsent(envName(key), key);
        }
        Map<String, String> out = new java.util.TreeMap<>();
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(ENV_PREFIX)) {
                continue;
            }
            String key = byEnvName.get(name);
            if (key == null) {
                for (String prefix : KafkaKeys.CLIENT_PREFIXES) {
                    String p = envName(prefix);
                    String rest = byEnvName.get(ENV_PREFIX + name.substring(Math.min(name.length(), p.length())));
                    if (name.startsWith(p) && rest != null && KafkaKeys.NAMES.contains(rest)) {
                        key = prefix + rest;
                        break;
                    }
                }
            }
            if (key == null) {
                throw new IllegalArgumentException("environment variable " + name + " names no config key (expected "
                        + ENV_PREFIX + "<KEY>, e.g. " + ENV_PREFIX + "BOOTSTRAP_SERVERS for bootstrap.servers)");
            }
            out.put(key, e.getValue());
        }
        return out;
    }

    /** The environment variable of a key: bootstrap.servers is CAROUSEL_BOOTSTRAP_SERVERS. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + file + " not found");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("config file " + file + " cannot be read: permission denied");
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("config file " + file + " cannot be read: it is not UTF-8 text");
        } catch (IOException | IllegalArgumentException e) {
            String why = Files.isDirectory(file) ? "it is a directory" : e.getMessage();
            throw new IllegalArgumentException("config file " + file + " cannot be read: " + why);
        }
        Map<String, String> out = new LinkedHashMap<>();
        p.stringPropertyNames().stream().sorted().forEach(k -> out.put(k, p.getProperty(k)));
        return out;
    }

    private static IllegalArgumentException unknownKey(String key) {
        Set<String> all = new HashSet<>(DEFAULTS.keySet());
        all.addAll(KafkaKeys.NAMES);
        String near = KafkaKeys.closest(key, all);
        return new IllegalArgumentException("unknown config key " + key
                + (near != null ? " (did you mean " + near + "?)"
                        : ": neither a Carousel key nor a Kafka Streams, producer, consumer or admin setting"));
    }

    /** Reads every key once (so each typed accessor below cannot fail later) and checks keys against each other. */
    private void validate() {
        List<String> topicKeys = List.of(TOPIC_EVENTS, TOPIC_ENRICHED, TOPIC_FORECASTS, TOPIC_ANOMALIES,
                TOPIC_DEAD_LETTER, TOPIC_MODELS, TOPIC_CONTROL);
        Map<String, String> seen = new LinkedHashMap<>();
        for (String key : topicKeys) {
            String previous = seen.putIfAbsent(v.topic(key), key);
            if (previous != null) {
                throw new IllegalArgumentException("config key " + key + ": the same topic as " + previous
                        + " ('" + v.string(key) + "'); each topic must be distinct");
            }
        }
        topicPartitions();
        topicReplication();
        if (embeddedPort() != 0 && embeddedPort() == embeddedControllerPort()) {
            throw new IllegalArgumentException("config key " + EMBEDDED_CONTROLLER_PORT
                    + ": must differ from " + EMBEDDED_PORT + " (" + embeddedPort() + ")");
        }
        embeddedDir();
        eventsTimestampFormat();
        eventsOutOfOrder();
        eventsMaxBytes();
        eventsMaxKeyBytes();
        modelHidden();
        modelLayers();
        modelSeed();
        modelInit().ifPresent(p -> {
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                throw Values.invalid(MODEL_INIT, "a readable .safetensors file", p.toString());
            }
        });
        modelFeaturesTimeDelta();
        modelFeaturesCalendar();
        modelTarget();
        int features = eventsFeatures().size();
        if (modelOutputs() > features) {
            throw Values.invalid(MODEL_OUTPUTS, "at most the number of " + EVENTS_FEATURES + " (" + features + ")",
                    v.string(MODEL_OUTPUTS));
        }
        modelGroupPattern();
        if (modelScope() == ModelScope.GROUP && modelGroupField().isEmpty() && modelGroupPattern().isEmpty()) {
            throw new IllegalArgumentException("config key " + MODEL_SCOPE + ": 'group' needs "
                    + MODEL_GROUP_FIELD + " or " + MODEL_GROUP_PATTERN);
        }
        forecastHorizon();
        forecastGateHalfLife();
        forecastSeasonal();
        forecastSmoothing();
        scoringConfig();
        if (historyRetention().isZero()) {
            throw Values.invalid(HISTORY_RETENTION, "a duration > 0", v.string(HISTORY_RETENTION));
        }
        if (retrainSeqLen() > historyMaxEvents()) {
            throw Values.invalid(RETRAIN_SEQ_LEN, "at most " + HISTORY_MAX_EVENTS + " (" + historyMaxEvents() + ")",
                    v.string(RETRAIN_SEQ_LEN));
        }
        retrainEveryEvents();
        retrainInterval();
        retrainClock();
        retrainMode();
        retrainEpochs();
        retrainBatch();
        retrainLr();
        retrainClip();
        retrainMaxRegression();
        retrainThreads();
        retrainDrift();
        trainingExcludeAnomalies();
        trainingLoss();
        httpPort();
        v.nonEmpty(HTTP_HOST);
        httpInsecure();
        validateKafka();
    }

    /** Lets Kafka check its own settings now rather than when the topology starts. */
    private void validateKafka() {
        try {
            new StreamsConfig(streamsProperties(embedded() ? "127.0.0.1:" + embeddedPort() : bootstrapServers()));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("invalid Kafka setting: " + e.getMessage());
        }
    }

    // ---- Kafka ----

    /** The configured brokers; empty means "start the embedded broker". */
    public String bootstrapServers() {
        return kafka.getOrDefault(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "");
    }

    public boolean embedded() {
        return bootstrapServers().isEmpty();
    }

    /** Kafka Streams settings with Carousel's defaults; bootstrap.servers only if configured. */
    public Properties streamsProperties() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "carousel");
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, "data/state");
        // the forecast task reads the events and the control topic, which need no alignment by time
        // (nothing is joined): with Kafka's default of 0 the task, whenever the control partition is
        // empty (nearly always), checks its fetch lag and formats a log line per processed record,
        // a tenth of the stream thread's time; -1 processes whatever is buffered at once
        p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, "-1");
        // internal topics (changelogs, repartitions) as replicated as Carousel's own topics
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, String.valueOf(topicReplication()));
        // records that fail in the global thread (models topic, scope group/global) are skipped like
        // any other: Kafka 5.0's default, and without it Kafka warns at every start
        @SuppressWarnings("deprecation")
        String globalHandler = StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG;
        p.put(globalHandler, "true");
        p.putAll(kafka);
        return p;
    }

    /** As {@link #streamsProperties()}, with bootstrap.servers set to {@code bootstrapServers}. */
    public Properties streamsProperties(String bootstrapServers) {
        Properties p = streamsProperties();
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    /** Every effective setting, Carousel's and Kafka's (with Carousel's Kafka defaults), sorted by key. */
    public Map<String, String> values() {
        Map<String, String> all = new TreeMap<>(carousel);
        streamsProperties().forEach((k, val) -> all.put((String) k, (String) val));
        return Collections.unmodifiableMap(all);
    }

    // ---- topics ----

    public String topicEvents() { return v.string(TOPIC_EVENTS); }
    public String topicEnriched() { return v.string(TOPIC_ENRICHED); }
    public String topicForecasts() { return v.string(TOPIC_FORECASTS); }
    public String topicAnomalies() { return v.string(TOPIC_ANOMALIES); }
    public String topicDeadLetter() { return v.string(TOPIC_DEAD_LETTER); }
    public String topicModels() { return v.string(TOPIC_MODELS); }
    /** Feedback and rollbacks from the HTTP API, on their way to the stream thread that owns the key. */
    public String topicControl() { return v.string(TOPIC_CONTROL); }
    public int topicPartitions() { return v.intAtLeast(TOPIC_PARTITIONS, 1); }
    public short topicReplication() { return (short) v.intBetween(TOPIC_REPLICATION, 1, Short.MAX_VALUE); }

    // ---- embedded broker ----

    public int embeddedPort() { return v.intBetween(EMBEDDED_PORT, 0, 65535); }
    /** 0 = any free port. */
    public int embeddedControllerPort() { return v.intBetween(EMBEDDED_CONTROLLER_PORT, 0, 65535); }
    public Path embeddedDir() { return v.path(EMBEDDED_DIR); }

    // ---- events ----

    /** The JSON field holding the series key; empty = use the record key. */
    public Optional<String> eventsKeyField() { return v.optional(EVENTS_KEY_FIELD); }
    /** The JSON field holding the event time; empty = use the record timestamp. */
    public Optional<String> eventsTimestampField() { return v.optional(EVENTS_TIMESTAMP_FIELD); }
    public TimestampFormat eventsTimestampFormat() { return v.choice(EVENTS_TIMESTAMP_FORMAT, TimestampFormat.class); }
    /** JSON pointers of the input features, in order; the first {@link #modelOutputs()} are forecast. */
    public List<String> eventsFeatures() { return v.jsonPointers(EVENTS_FEATURES); }
    public OutOfOrder eventsOutOfOrder() { return v.choice(EVENTS_OUT_OF_ORDER, OutOfOrder.class); }
    public int eventsMaxBytes() { return v.intAtLeast(EVENTS_MAX_BYTES, 1); }
    public int eventsMaxKeyBytes() { return v.intAtLeast(EVENTS_MAX_KEY_BYTES, 1); }

    // ---- model ----

    public int modelHidden() { return v.intAtLeast(MODEL_HIDDEN, 1); }
    public int modelLayers() { return v.intAtLeast(MODEL_LAYERS, 1); }
    public long modelSeed() { return v.anyLong(MODEL_SEED); }
    /** Initial weights (safetensors); empty = random initialisation from {@link #modelSeed()}. */
    public Optional<Path> modelInit() { return v.optional(MODEL_INIT).map(s -> v.path(MODEL_INIT)); }
    public boolean modelFeaturesTimeDelta() { return v.bool(MODEL_FEATURES_TIME_DELTA); }
    public boolean modelFeaturesCalendar() { return v.bool(MODEL_FEATURES_CALENDAR); }
    public int modelOutputs() { return v.intAtLeast(MODEL_OUTPUTS, 1); }
    /** What the LSTM forecasts: the next level, or the change from the last value. */
    public ModelTarget modelTarget() { return v.choice(MODEL_TARGET, ModelTarget.class); }
    public ModelScope modelScope() { return v.choice(MODEL_SCOPE, ModelScope.class); }
    public Optional<String> modelGroupField() { return v.optional(MODEL_GROUP_FIELD); }
    public Optional<Pattern> modelGroupPattern() { return v.regex(MODEL_GROUP_PATTERN); }

    // ---- forecasting and scoring ----

    public int forecastHorizon() { return v.intAtLeast(FORECAST_HORIZON, 1); }
    /** Half-life in events of the forecast gate's recent errors; 0 = no gate (a trained LSTM always serves). */
    public double forecastGateHalfLife() { return v.number(FORECAST_GATE_HALF_LIFE, 0, false, Double.MAX_VALUE); }
    /** Whether a key with a detected season has the seasonal-naive forecast as a third source of its gate. */
    public boolean forecastSeasonal() { return v.bool(FORECAST_SEASONAL); }
    /** Whether a key gets simple exponential smoothing, fitted to its history, as a source of its gate. */
    public boolean forecastSmoothing() { return v.bool(FORECAST_SMOOTHING); }
    public double anomalyThreshold() {
        double t = v.number(ANOMALY_THRESHOLD, 0, true, 1);
        if (t >= 1) {
            throw Values.invalid(ANOMALY_THRESHOLD, "a number > 0 and < 1", v.string(ANOMALY_THRESHOLD));
        }
        return t;
    }

    /** The anomaly scorer's settings (anomaly.*), checked together: each half-life in events. */
    public ScoringConfig scoringConfig() {
        int warmup = v.intAtLeast(ANOMALY_WARMUP_EVENTS, ScoringConfig.MIN_WARMUP_EVENTS);
        double shortHalfLife = v.number(ANOMALY_SHORT_HALF_LIFE, 0, true, Double.MAX_VALUE);
        double scaleHalfLife = v.number(ANOMALY_SCALE_HALF_LIFE, 0, true, Double.MAX_VALUE);
        double longHalfLife = v.number(ANOMALY_LONG_HALF_LIFE, 0, true, Double.MAX_VALUE);
        double coverage = v.number(ANOMALY_INTERVAL_COVERAGE, 0, true, 1);
        if (shortHalfLife >= scaleHalfLife) {
            throw Values.invalid(ANOMALY_SHORT_HALF_LIFE, "less than " + ANOMALY_SCALE_HALF_LIFE + " (" + scaleHalfLife + ")",
                    v.string(ANOMALY_SHORT_HALF_LIFE));
        }
        if (longHalfLife <= shortHalfLife) {
            throw Values.invalid(ANOMALY_LONG_HALF_LIFE, "more than " + ANOMALY_SHORT_HALF_LIFE + " (" + shortHalfLife + ")",
                    v.string(ANOMALY_LONG_HALF_LIFE));
        }
        if (coverage >= 1) {
            throw Values.invalid(ANOMALY_INTERVAL_COVERAGE, "a number > 0 and < 1", v.string(ANOMALY_INTERVAL_COVERAGE));
        }
        return new ScoringConfig(warmup, shortHalfLife, scaleHalfLife, longHalfLife, anomalyThreshold(), coverage);
    }

    // ---- history and retraining ----

    public Duration historyRetention() { return v.duration(HISTORY_RETENTION); }
    public int historyMaxEvents() { return v.intAtLeast(HISTORY_MAX_EVENTS, 1); }
    /** 0 = never by count. */
    public int retrainEveryEvents() { return v.intAtLeast(RETRAIN_EVERY_EVENTS, 0); }
    /** ZERO = never by time. */
    public Duration retrainInterval() { return v.duration(RETRAIN_INTERVAL); }
    public RetrainClock retrainClock() { return v.choice(RETRAIN_CLOCK, RetrainClock.class); }
    public RetrainMode retrainMode() { return v.choice(RETRAIN_MODE, RetrainMode.class); }
    public int retrainEpochs() { return v.intAtLeast(RETRAIN_EPOCHS, 1); }
    public int retrainSeqLen() { return v.intAtLeast(RETRAIN_SEQ_LEN, 1); }
    public int retrainBatch() { return v.intAtLeast(RETRAIN_BATCH, 1); }
    public double retrainLr() { return v.number(RETRAIN_LR, 0, true, Double.MAX_VALUE); }
    /** Gradient-norm clip; 0 = no clipping. */
    public double retrainClip() { return v.number(RETRAIN_CLIP, 0, false, Double.MAX_VALUE); }
    /** How much worse (relative validation loss) a retrained model may be and still be swapped in. */
    public double retrainMaxRegression() { return v.number(RETRAIN_MAX_REGRESSION, 0, false, Double.MAX_VALUE); }
    public int retrainThreads() { return v.intAtLeast(RETRAIN_THREADS, 1); }
    public boolean retrainDrift() { return v.bool(RETRAIN_DRIFT); }
    public boolean trainingExcludeAnomalies() { return v.bool(TRAINING_EXCLUDE_ANOMALIES); }
    /** What training minimises: the mean squared error, or the Huber loss (bend at one standard deviation). */
    public Loss trainingLoss() { return v.choice(TRAINING_LOSS, Loss.class); }

    // ---- HTTP ----

    /** 0 = any free port. */
    public int httpPort() { return v.intBetween(HTTP_PORT, 0, 65535); }
    public String httpHost() { return v.nonEmpty(HTTP_HOST); }
    /** Bearer token the HTTP surface requires; empty = no authentication. */
    public Optional<String> httpToken() { return v.optional(HTTP_TOKEN); }
    /** True lets the server listen on a non-loopback address without a token. */
    public boolean httpInsecure() { return v.bool(HTTP_INSECURE); }
    /** The host other instances reach this one's HTTP server at; empty = derived from http.host. */
    public Optional<String> httpAdvertisedHost() { return v.optional(HTTP_ADVERTISED_HOST); }
}
