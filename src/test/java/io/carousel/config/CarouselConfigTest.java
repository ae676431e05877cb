package io.carousel.config;

import static io.carousel.config.ConfigKeys.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig.ModelScope;
import io.carousel.config.CarouselConfig.OutOfOrder;
import io.carousel.config.CarouselConfig.RetrainClock;
import io.carousel.config.CarouselConfig.RetrainMode;
import io.carousel.config.CarouselConfig.TimestampFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CarouselConfigTest {
    @TempDir
    Path tmp;

    @Test
    void defaults() {
        CarouselConfig c = CarouselConfig.defaults();
        assertEquals("carousel.events", c.topicEvents());
        assertEquals("carousel.enriched", c.topicEnriched());
        assertEquals("carousel.forecasts", c.topicForecasts());
        assertEquals("carousel.anomalies", c.topicAnomalies());
        assertEquals("carousel.dead-letter", c.topicDeadLetter());
        assertEquals("carousel.models", c.topicModels());
        assertEquals(4, c.topicPartitions());
        assertEquals(1, c.topicReplication());
        assertEquals(9092, c.embeddedPort());
        assertEquals(0, c.embeddedControllerPort());
        assertEquals(Path.of("data/kafka"), c.embeddedDir());
        assertEquals(Optional.empty(), c.eventsKeyField());
        assertEquals(Optional.of("timestamp"), c.eventsTimestampField());
        assertEquals(TimestampFormat.AUTO, c.eventsTimestampFormat());
        assertEquals(List.of("/value"), c.eventsFeatures());
        assertEquals(OutOfOrder.PROCESS, c.eventsOutOfOrder());
        assertEquals(1048576, c.eventsMaxBytes());
        assertEquals(1024, c.eventsMaxKeyBytes());
        assertEquals(32, c.modelHidden());
        assertEquals(1, c.modelLayers());
        assertEquals(42L, c.modelSeed());
        assertEquals(Optional.empty(), c.modelInit());
        assertFalse(c.modelFeaturesTimeDelta());
        assertFalse(c.modelFeaturesCalendar());
        assertEquals(1, c.modelOutputs());
        assertEquals(ModelScope.KEY, c.modelScope());
        assertEquals(Optional.empty(), c.modelGroupField());
        assertTrue(c.modelGroupPattern().isEmpty());
        assertEquals(1, c.forecastHorizon());
        assertEquals(0.9999, c.anomalyThreshold());
        assertEquals(io.carousel.scoring.ScoringConfig.defaults(), c.scoringConfig());
        assertEquals(Duration.ofDays(7), c.historyRetention());
        assertEquals(2000, c.historyMaxEvents());
        assertEquals(500, c.retrainEveryEvents());
        assertEquals(Duration.ZERO, c.retrainInterval());
        assertEquals(RetrainClock.STREAM, c.retrainClock());
        assertEquals(RetrainMode.FINETUNE, c.retrainMode());
        assertEquals(30, c.retrainEpochs());
        assertEquals(64, c.retrainSeqLen());
        assertEquals(16, c.retrainBatch());
        assertEquals(0.01, c.retrainLr());
        assertEquals(1.0, c.retrainClip());
        assertEquals(0.1, c.retrainMaxRegression());
        assertEquals(1, c.retrainThreads());
        assertTrue(c.retrainDrift());
        assertTrue(c.trainingExcludeAnomalies());
        assertEquals(8080, c.httpPort());
        assertEquals("127.0.0.1", c.httpHost());
        assertEquals(Optional.empty(), c.httpToken());

        assertEquals("", c.bootstrapServers());
        assertTrue(c.embedded());
        Properties p = c.streamsProperties();
        assertEquals("carousel", p.getProperty(StreamsConfig.APPLICATION_ID_CONFIG));
        assertEquals("exactly_once_v2", p.getProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals("data/state", p.getProperty(StreamsConfig.STATE_DIR_CONFIG));
        assertEquals("1", p.getProperty(StreamsConfig.REPLICATION_FACTOR_CONFIG));
        assertEquals("-1", p.getProperty(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG), "events and control need no time alignment");
        assertEquals("0", CarouselConfig.of(Map.of("max.task.idle.ms", "0")).streamsProperties()
                .getProperty(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG), "a user's setting wins");
        assertFalse(p.containsKey(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        assertFalse(p.containsKey(TOPIC_EVENTS), "Carousel's keys stay out of Kafka's properties");
        assertEquals("127.0.0.1:1234", c.streamsProperties("127.0.0.1:1234").getProperty("bootstrap.servers"));
    }

    @Test
    void setOverridesFileWhichOverridesDefaults() throws IOException {
        Path file = write("forecast.horizon=3\nmodel.hidden=16\nbootstrap.servers=broker:9092\n");
        CarouselConfig c = CarouselConfig.load(file, List.of("forecast.horizon=5", "history.retention = 12h"));
        assertEquals(5, c.forecastHorizon());
        assertEquals(16, c.modelHidden());
        assertEquals(Duration.ofHours(12), c.historyRetention());
        assertEquals(1, c.modelLayers());
        assertEquals("broker:9092", c.bootstrapServers());
        assertFalse(c.embedded());
        assertEquals("broker:9092", c.streamsProperties().getProperty("bootstrap.servers"));
        // an empty --set of a Kafka key restores Kafka's default: here, the embedded broker
        assertTrue(CarouselConfig.load(file, List.of("bootstrap.servers=")).embedded());
    }

    @Test
    void kafkaKeysPassThroughUnderTheirOwnNames() {
        CarouselConfig c = CarouselConfig.load(null, List.of("state.dir=/tmp/x", "application.id=foo",
                "producer.linger.ms=5", "num.stream.threads=2", "topic.segment.bytes=1048576",
                "consumer.max.poll.records=100", "replication.factor=3"));
        Properties p = c.streamsProperties();
        assertEquals("/tmp/x", p.getProperty("state.dir"));
        assertEquals("foo", p.getProperty("application.id"));
        assertEquals("5", p.getProperty("producer.linger.ms"));
        assertEquals("2", p.getProperty("num.stream.threads"));
        assertEquals("1048576", p.getProperty("topic.segment.bytes"));
        assertEquals("100", p.getProperty("consumer.max.poll.records"));
        assertEquals("3", p.getProperty("replication.factor"));
        assertEquals("foo", c.values().get("application.id"));
    }

    @Test
    void unknownKeysAreRefusedByName() {
        assertMessage("unknown config key model.hiden (did you mean model.hidden?)", "model.hiden=8");
        assertMessage("unknown config key topic.event (did you mean topic.events?)", "topic.event=x");
        assertMessage("unknown config key stat.dir (did you mean state.dir?)", "stat.dir=/tmp");
        assertMessage("unknown config key wibble.wobble: neither a Carousel key nor a Kafka Streams, producer, "
                + "consumer or admin setting", "wibble.wobble=1");
    }

    static Stream<Arguments> invalidValues() {
        return Stream.of(
                Arguments.of(FORECAST_HORIZON, "abc", "expected an integer >= 1, got 'abc'"),
                Arguments.of(FORECAST_HORIZON, "0", "expected an integer >= 1, got '0'"),
                Arguments.of(TOPIC_EVENTS, "bad topic", "expected a topic name"),
                Arguments.of(TOPIC_PARTITIONS, "0", "expected an integer >= 1"),
                Arguments.of(TOPIC_REPLICATION, "x", "expected an integer between 1 and 32767"),
                Arguments.of(EMBEDDED_PORT, "70000", "expected an integer between 0 and 65535"),
                Arguments.of(EMBEDDED_CONTROLLER_PORT, "-1", "expected an integer between 0 and 65535"),
                Arguments.of(EMBEDDED_DIR, "", "expected a value"),
                Arguments.of(EVENTS_TIMESTAMP_FORMAT, "nanos", "expected one of auto, iso, millis, seconds, record"),
                Arguments.of(EVENTS_FEATURES, "value", "expected comma-separated JSON pointers"),
                Arguments.of(EVENTS_FEATURES, "/a,", "expected comma-separated JSON pointers"),
                Arguments.of(EVENTS_OUT_OF_ORDER, "drop", "expected one of process, dead-letter"),
                Arguments.of(EVENTS_MAX_BYTES, "1MB", "expected an integer >= 1"),
                Arguments.of(EVENTS_MAX_KEY_BYTES, "0", "expected an integer >= 1"),
                Arguments.of(MODEL_HIDDEN, "-3", "expected an integer >= 1"),
                Arguments.of(MODEL_LAYERS, "two", "expected an integer >= 1"),
                Arguments.of(MODEL_SEED, "1.5", "expected an integer"),
                Arguments.of(MODEL_INIT, "missing.safetensors", "expected a readable .safetensors file"),
                Arguments.of(MODEL_FEATURES_TIME_DELTA, "yes", "expected true or false"),
                Arguments.of(MODEL_FEATURES_CALENDAR, "1", "expected true or false"),
                Arguments.of(MODEL_OUTPUTS, "2", "expected at most the number of events.features (1)"),
                Arguments.of(MODEL_SCOPE, "fleet", "expected one of key, group, global"),
                Arguments.of(MODEL_TARGET, "delta", "expected one of level, change"),
                Arguments.of(FORECAST_GATE_HALF_LIFE, "-1", "expected a number >= 0"),
                Arguments.of(FORECAST_SEASONAL, "on", "expected true or false"),
                Arguments.of(FORECAST_SMOOTHING, "1", "expected true or false"),
                Arguments.of(MODEL_GROUP_PATTERN, "(", "expected a regular expression"),
                Arguments.of(ANOMALY_THRESHOLD, "1.5", "expected a number > 0 and <= 1, got '1.5'"),
                Arguments.of(ANOMALY_THRESHOLD, "NaN", "expected a number > 0 and <= 1"),
                Arguments.of(ANOMALY_THRESHOLD, "1", "expected a number > 0 and < 1"),
                Arguments.of(ANOMALY_WARMUP_EVENTS, "2", "expected an integer >= 8"),
                Arguments.of(ANOMALY_SHORT_HALF_LIFE, "0", "expected a number > 0"),
                Arguments.of(ANOMALY_SCALE_HALF_LIFE, "-2", "expected a number > 0"),
                Arguments.of(ANOMALY_SHORT_HALF_LIFE, "60", "expected less than anomaly.scale-half-life (50.0)"),
                Arguments.of(ANOMALY_LONG_HALF_LIFE, "3", "expected more than anomaly.short-half-life (3.5)"),
                Arguments.of(ANOMALY_INTERVAL_COVERAGE, "1", "expected a number > 0 and < 1"),
                Arguments.of(HISTORY_RETENTION, "7 days", "expected a duration like PT5M"),
                Arguments.of(HISTORY_RETENTION, "0", "expected a duration > 0"),
                Arguments.of(HISTORY_MAX_EVENTS, "0", "expected an integer >= 1"),
                Arguments.of(RETRAIN_EVERY_EVENTS, "-5", "expected an integer >= 0"),
                Arguments.of(RETRAIN_INTERVAL, "-PT5M", "expected a duration like PT5M"),
                Arguments.of(RETRAIN_CLOCK, "cpu", "expected one of stream, wall"),
                Arguments.of(RETRAIN_MODE, "fresh", "expected one of finetune, scratch"),
                Arguments.of(RETRAIN_EPOCHS, "0", "expected an integer >= 1"),
                Arguments.of(RETRAIN_SEQ_LEN, "5000", "expected at most history.max-events (2000)"),
                Arguments.of(RETRAIN_BATCH, "0", "expected an integer >= 1"),
                Arguments.of(RETRAIN_LR, "0", "expected a number > 0"),
                Arguments.of(RETRAIN_CLIP, "-1", "expected a number >= 0"),
                Arguments.of(RETRAIN_MAX_REGRESSION, "1e", "expected a number >= 0"),
                Arguments.of(RETRAIN_THREADS, "0", "expected an integer >= 1"),
                Arguments.of(RETRAIN_DRIFT, "maybe", "expected true or false"),
                Arguments.of(TRAINING_EXCLUDE_ANOMALIES, "", "expected true or false"),
                Arguments.of(TRAINING_LOSS, "mae", "expected one of mse, huber"),
                Arguments.of(HTTP_PORT, "http", "expected an integer between 0 and 65535"),
                Arguments.of(HTTP_HOST, "", "expected a value"),
                Arguments.of(HTTP_INSECURE, "maybe", "expected true or false"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("invalidValues")
    void eachInvalidValueIsReportedWithItsKey(String key, String value, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CarouselConfig.load(null, List.of(key + "=" + value)));
        assertTrue(e.getMessage().startsWith("config key " + key + ": " + expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void everyCarouselKeyHasAnInvalidValueCase() {
        List<String> tested = invalidValues().map(a -> (String) a.get()[0]).distinct().toList();
        for (String key : DEFAULTS.keySet()) {
            boolean freeText = List.of(EVENTS_KEY_FIELD, EVENTS_TIMESTAMP_FIELD, MODEL_GROUP_FIELD, HTTP_TOKEN,
                    HTTP_ADVERTISED_HOST, TOPIC_CONTROL, TOPIC_ENRICHED, TOPIC_FORECASTS, TOPIC_ANOMALIES, TOPIC_DEAD_LETTER, TOPIC_MODELS).contains(key);
            assertTrue(freeText || tested.contains(key), "no invalid-value case for " + key);
        }
    }

    @Test
    void crossChecks() {
        assertMessage("config key topic.forecasts: the same topic as topic.events ('x'); each topic must be distinct",
                "topic.events=x", "topic.forecasts=x");
        assertMessage("config key model.scope: 'group' needs model.group.field or model.group.pattern",
                "model.scope=group");
        assertMessage("config key embedded.controller-port: must differ from embedded.port (9092)",
                "embedded.controller-port=9092");
        CarouselConfig c = CarouselConfig.load(null, List.of("model.scope=group", "model.group.pattern=^(\\w+)-\\d+$",
                "events.features=/temp, /humidity", "model.outputs=2"));
        assertEquals(ModelScope.GROUP, c.modelScope());
        assertEquals(List.of("/temp", "/humidity"), c.eventsFeatures());
        assertTrue(c.modelGroupPattern().orElseThrow().matcher("pump-12").matches());
    }

    @Test
    void kafkaValuesAreCheckedAtLoad() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CarouselConfig.load(null, List.of("num.stream.threads=many")));
        assertTrue(e.getMessage().startsWith("invalid Kafka setting: ") && e.getMessage().contains("num.stream.threads"),
                e.getMessage());
    }

    @Test
    void malformedSetAndUnreadableFiles() throws IOException {
        assertMessage("--set expects key=value, got 'forecast.horizon'", "forecast.horizon");
        Path missing = tmp.resolve("nope.properties");
        assertEquals("config file " + missing + " not found",
                assertThrows(IllegalArgumentException.class, () -> CarouselConfig.load(missing, List.of())).getMessage());
        assertEquals("config file " + tmp + " cannot be read: it is a directory",
                assertThrows(IllegalArgumentException.class, () -> CarouselConfig.load(tmp, List.of())).getMessage());
        Path latin1 = tmp.resolve("latin1.properties");
        Files.write(latin1, new byte[] {'h', 't', 't', 'p', '.', 't', 'o', 'k', 'e', 'n', '=', (byte) 0xE9});
        assertEquals("config file " + latin1 + " cannot be read: it is not UTF-8 text",
                assertThrows(IllegalArgumentException.class, () -> CarouselConfig.load(latin1, List.of())).getMessage());
    }

    @Test
    void modelInitAcceptsAnExistingFile() throws IOException {
        Path weights = Files.write(tmp.resolve("w.safetensors"), new byte[8]);
        assertEquals(Optional.of(weights), CarouselConfig.load(null, List.of("model.init=" + weights)).modelInit());
    }

    /** The shipped file must load as is, name every key, and change no default. */
    @Test
    void theShippedConfigFileLoadsAndMatchesTheDefaults() throws IOException {
        Path shipped = Path.of(CarouselConfig.DEFAULT_FILE);
        CarouselConfig c = CarouselConfig.load(shipped, List.of());
        assertEquals(CarouselConfig.defaults().values(), c.values());
        assertTrue(c.embedded());
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(shipped)) {
            p.load(r);
        }
        for (String key : DEFAULTS.keySet()) {
            assertTrue(p.containsKey(key), "config/application.properties lacks " + key);
        }
    }

    @Test
    void noCarouselKeyShadowsAKafkaKey() {
        for (String key : DEFAULTS.keySet()) {
            assertFalse(KafkaKeys.NAMES.contains(key), key);
        }
    }

    @Test
    void shouldTakeCarouselEnvironmentVariablesBetweenTheFileAndSet() throws IOException {
        Path file = write("topic.events=from-file\nstate.dir=/from/file\n");
        Map<String, String> env = Map.of("CAROUSEL_BOOTSTRAP_SERVERS", "kafka:9092", "CAROUSEL_STATE_DIR", "/from/env",
                "CAROUSEL_TOPIC_DEAD_LETTER", "dlq", "CAROUSEL_PRODUCER_LINGER_MS", "7",
                "CAROUSEL_EVENTS_MAX_BYTES", "2048", "PATH", "/usr/bin", "HOME", "/root");
        CarouselConfig c = CarouselConfig.load(file, env, List.of("state.dir=/from/set"));
        assertEquals("kafka:9092", c.bootstrapServers());
        assertFalse(c.embedded());
        assertEquals("dlq", c.topicDeadLetter());
        assertEquals("from-file", c.topicEvents(), "the file where the environment is silent");
        assertEquals(2048, c.eventsMaxBytes());
        Properties p = c.streamsProperties("kafka:9092");
        assertEquals("/from/set", p.get(StreamsConfig.STATE_DIR_CONFIG), "--set wins over the environment");
        assertEquals("7", p.get("producer.linger.ms"));
    }

    @Test
    void shouldRefuseAnEnvironmentVariableThatNamesNoKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CarouselConfig.load(null, Map.of("CAROUSEL_BOOTSTRAP_SERVER", "x"), List.of()));
        assertTrue(e.getMessage().startsWith("environment variable CAROUSEL_BOOTSTRAP_SERVER names no config key"), e.getMessage());
    }

    @Test
    void everyCarouselKeyHasAnEnvironmentVariableOfItsOwn() {
        assertEquals("CAROUSEL_HTTP_PORT", CarouselConfig.envName("http.port"));
        assertEquals(DEFAULTS.size(), DEFAULTS.keySet().stream().map(CarouselConfig::envName).distinct().count());
        for (String key : DEFAULTS.keySet()) {
            assertEquals(Map.of(key, "v"), CarouselConfig.fromEnvironment(Map.of(CarouselConfig.envName(key), "v")), key);
        }
    }

    private Path write(String text) throws IOException {
        return Files.writeString(tmp.resolve("app.properties"), text);
    }

    private static void assertMessage(String expected, String... sets) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CarouselConfig.load(null, List.of(sets)));
        assertEquals(expected, e.getMessage());
    }
}
