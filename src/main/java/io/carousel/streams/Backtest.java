package io.carousel.streams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The production topology offline: {@link CarouselTopology#build} under a {@link TopologyTestDriver},
 * one event in, its enriched record (or dead letter) out, so that {@code backtest} runs exactly the
 * per-key logic of {@code run}. Training is synchronous at the moment the schedule says, and the
 * driver's wall clock follows the events' time (it starts at the first event and never goes back),
 * so the same input and configuration always give the same output, including
 * {@code retrain.clock=wall}.
 *
 * <p>The state lives in a temporary directory that {@link #close} deletes.
 */
public final class Backtest implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What one event produced: its enriched record's {@code carousel} fields, or why it was dead-lettered.
     * {@code warm} is false during the key's warm-up, when nothing is flagged; {@code source} says
     * what made {@code nextForecast} ({@code lstm}, {@code persistence}, {@code seasonal} or
     * {@code smoothed}; null when rejected).
     */
    public record Result(String rejection, double forecast, double score, boolean anomaly, double nextForecast,
                         double lower, double upper, long modelVersion, boolean warm, String source) {
        public boolean rejected() {
            return rejection != null;
        }
    }

    private final Path stateDir;
    private final TopologyTestDriver driver;
    private final TestInputTopic<byte[], byte[]> events;
    private final TestOutputTopic<byte[], byte[]> enriched;
    private final TestOutputTopic<byte[], byte[]> deadLetter;
    private final TestOutputTopic<byte[], byte[]> forecasts;
    private final TestOutputTopic<byte[], byte[]> anomalies;
    private long clock = Long.MIN_VALUE;

    public Backtest(CarouselConfig config) {
        StreamSettings s = StreamSettings.from(config).withSynchronousTraining();
        ModelSource models = ModelSource.from(s);
        try {
            stateDir = Files.createTempDirectory("carousel-backtest");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary state directory", e);
        }
        Properties p = CarouselApp.streamsProperties(config, "127.0.0.1:1");
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "carousel-backtest");
        try {
            driver = new TopologyTestDriver(CarouselTopology.build(s, models), p, Instant.EPOCH);
        } catch (RuntimeException e) {
            deleteStateDir();
            throw e;
        }
        ByteArraySerializer ser = new ByteArraySerializer();
        ByteArrayDeserializer de = new ByteArrayDeserializer();
        events = driver.createInputTopic(s.eventsTopic(), ser, ser);
        enriched = driver.createOutputTopic(s.enrichedTopic(), de, de);
        deadLetter = driver.createOutputTopic(s.deadLetterTopic(), de, de);
        forecasts = driver.createOutputTopic(s.forecastsTopic(), de, de);
        anomalies = driver.createOutputTopic(s.anomaliesTopic(), de, de);
    }

    /**
     * Processes one event.
     *
     * @param key the record key (may be null when events.key.field names the key)
     * @param value the event's JSON bytes
     * @param time the event's time in epoch ms, or -1 if unknown (the record time then stays where it was)
     */
    public Result process(byte[] key, byte[] value, long time) {
        if (time >= 0) {
            if (clock == Long.MIN_VALUE) {
                driver.advanceWallClockTime(Duration.ofMillis(time));
                clock = time;
            } else if (time > clock) {
                driver.advanceWallClockTime(Duration.ofMillis(time - clock));
                clock = time;
            }
        }
        long recordTime = Math.max(clock, 0);
        events.pipeInput(new TestRecord<>(key, value, null, recordTime));
        forecasts.readRecordsToList();
        anomalies.readRecordsToList();
        if (!deadLetter.isEmpty()) {
            TestRecord<byte[], byte[]> dead = deadLetter.readRecord();
            enriched.readRecordsToList();
            deadLetter.readRecordsToList();
            return rejected(dead);
        }
        if (enriched.isEmpty()) {
            throw new IllegalStateException("the topology produced neither an enriched record nor a dead letter");
        }
        byte[] out = enriched.readValue();
        try {
            JsonNode c = JSON.readTree(out).get("carousel");
            return new Result(null, number(c, "forecast"), c.get("anomalyScore").asDouble(), c.get("anomaly").asBoolean(),
                    number(c, "nextForecast"), number(c, "lower"), number(c, "upper"), c.get("modelVersion").asLong(),
                    c.get("warm").asBoolean(), c.get("source").asText());
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable enriched record", e);
        }
    }

    private static Result rejected(TestRecord<byte[], byte[]> dead) {
        String reason = header(dead, DeadLetters.REASON);
        String message = header(dead, DeadLetters.MESSAGE);
        String why = reason == null ? String.valueOf(message) : reason + (message == null ? "" : ": " + message);
        return new Result(why, Double.NaN, Double.NaN, false, Double.NaN, Double.NaN, Double.NaN, -1, false, null);
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static double number(JsonNode c, String field) {
        JsonNode n = c.get(field);
        return n == null || n.isNull() ? Double.NaN : n.asDouble();
    }

    @Override
    public void close() {
        try {
            driver.close();
        } finally {
            deleteStateDir();
        }
    }

    private void deleteStateDir() {
        try (Stream<Path> files = Files.walk(stateDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory: the OS cleans it up eventually
        }
    }
}
