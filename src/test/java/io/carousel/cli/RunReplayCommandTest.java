package io.carousel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import io.carousel.e2e.KafkaIO;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.streams.EventParser;
import io.carousel.streams.ParsedEvent;
import io.carousel.streams.StreamSettings;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code replay} against a real (embedded) broker, {@code run}'s one-line failures in-process, and
 * {@code run} as a real process: started, fed by {@code replay}, stopped by SIGTERM with exit 0.
 */
class RunReplayCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path shared;
    static EmbeddedKafka kafka;
    static Path config;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(shared.resolve("kafka"), 0, 0);
        config = shared.resolve("test.properties");
        // the HTTP server on any free port: 8080 may be another engineer's
        Files.writeString(config, "# defaults\nhttp.port=0\n");
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static CliRun replay(String... args) {
        List<String> all = new ArrayList<>(List.of("replay", "--config", config.toString(),
                "--set", "embedded.port=" + kafka.port()));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    private static List<ConsumerRecord<byte[], byte[]>> read(String topic) {
        return KafkaIO.readAll(kafka.bootstrapServers(), topic, WAIT);
    }

    private static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void replaysANabCsvKeyedByTheFileNameAtTheGivenRate() throws Exception {
        String topic = "replay-nab";
        kafka.createTopic(topic, 2, Map.of());
        StringBuilder csv = new StringBuilder("timestamp,value,label\n");
        for (int i = 0; i < 20; i++) {
            csv.append(String.format("2014-04-01 00:%02d:00,%s,%d\n", i * 2, 20.5 + i, i == 13 ? 1 : 0));
        }
        Path file = dir.resolve("machine_temperature.csv");
        Files.writeString(file, csv);

        long t0 = System.nanoTime();
        CliRun r = replay("--input", file.toString(), "--topic", topic, "--rate", "100/s");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("replayed 20 events from " + file + " to " + topic, r.out().strip());
        assertTrue(ms >= 150, "20 rows at 100/s took only " + ms + " ms");

        List<ConsumerRecord<byte[], byte[]>> records = read(topic);
        assertEquals(20, records.size());
        EventParser parser = new EventParser(StreamSettings.from(CarouselConfig.defaults()));
        for (ConsumerRecord<byte[], byte[]> rec : records) {
            assertEquals("machine_temperature", string(rec.key()));
            JsonNode e = JSON.readTree(rec.value());
            assertEquals(List.of("timestamp", "value", "label"), fieldNames(e));
            assertTrue(e.get("timestamp").isTextual() && e.get("timestamp").asText().startsWith("2014-04-01 00:"));
            assertTrue(e.get("value").isNumber());
            // what replay writes, the processor reads
            ParsedEvent p = parser.parse(rec.key(), rec.value(), 0);
            assertEquals(e.get("value").asDouble(), p.features()[0]);
        }
        assertEquals(1, records.stream().filter(rec -> string(rec.value()).contains("\"label\":1")).count());
    }

    @Test
    void replaysAKeyColumnCsvWithExtraColumnsToTheConfiguredEventsTopic() throws Exception {
        String topic = "replay-keyed";
        kafka.createTopic(topic, 1, Map.of());
        Path file = dir.resolve("fleet.csv");
        Files.writeString(file, """
                timestamp,key,value,temp,site
                2024-01-01T00:00:00Z,pump-1,1.5,20,"north, hall 2"
                2024-01-01T00:00:00Z,pump-2,-3e2,21.25,south

                2024-01-01T00:01:00Z,pump-1,1.75,,north
                """);
        CliRun r = replay("--input", file.toString(), "--set", "topic.events=" + topic);
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("replayed 3 events from " + file + " to " + topic, r.out().strip());
        List<ConsumerRecord<byte[], byte[]>> records = read(topic);
        assertEquals(List.of("pump-1", "pump-2", "pump-1"), records.stream().map(rec -> string(rec.key())).toList());
        assertEquals("{\"timestamp\":\"2024-01-01T00:00:00Z\",\"value\":1.5,\"temp\":20,\"site\":\"north, hall 2\"}",
                string(records.get(0).value()));
        assertEquals("{\"timestamp\":\"2024-01-01T00:00:00Z\",\"value\":-300.0,\"temp\":21.25,\"site\":\"south\"}",
                string(records.get(1).value()));
        // an empty cell of a column that is not a feature is left out
        assertEquals("{\"timestamp\":\"2024-01-01T00:01:00Z\",\"value\":1.75,\"site\":\"north\"}",
                string(records.get(2).value()));
    }

    @Test
    void aBadRowIsOneLineNamingTheLineAndNothingIsSent() throws Exception {
        String topic = "replay-bad";
        kafka.createTopic(topic, 1, Map.of());
        Path file = dir.resolve("bad.csv");
        Files.writeString(file, "timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n2024-01-01T00:02:00Z,abc\n");
        CliRun r = replay("--input", file.toString(), "--topic", topic);
        assertEquals(1, r.exitCode());
        assertEquals("carousel: " + file + " line 4: value is not a number: 'abc'", r.err().strip());
        assertTrue(read(topic).isEmpty());

        Files.writeString(file, "timestamp,value\n2024-01-01T00:00:00Z,1\nyesterday,2\n");
        r = replay("--input", file.toString(), "--topic", topic);
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("carousel: " + file + " line 3: unparseable timestamp"), r.err());

        Files.writeString(file, "time,value\n1,2\n");
        r = replay("--input", file.toString(), "--topic", topic);
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("carousel: " + file + " line 1: no timestamp column"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(read(topic).isEmpty());
    }

    @Test
    void replayNamesTheMissingBrokerOrTopicOnOneLine() throws Exception {
        Path file = dir.resolve("s.csv");
        Files.writeString(file, "timestamp,value\n2024-01-01T00:00:00Z,1\n");
        int port = freePort();
        CliRun r = CliRun.of("replay", "--input", file.toString(), "--config", config.toString(),
                "--set", "embedded.port=" + port);
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("carousel: no Kafka broker on 127.0.0.1:" + port), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        r = replay("--input", file.toString(), "--topic", "no-such-topic");
        assertEquals(1, r.exitCode());
        assertEquals("carousel: topic no-such-topic does not exist on " + kafka.bootstrapServers()
                + " (`carousel run` creates it)", r.err().strip());
    }

    @Test
    void runSaysOnOneLineThatTheEmbeddedPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            CliRun r = CliRun.of("run", "--config", config.toString(), "--set", "embedded.port=" + taken.getLocalPort(),
                    "--set", "embedded.dir=" + dir.resolve("kafka"), "--set", "state.dir=" + dir.resolve("state"));
            assertEquals(1, r.exitCode());
            assertTrue(r.err().startsWith("carousel: cannot start the embedded Kafka broker: 127.0.0.1:"
                    + taken.getLocalPort() + " is already in use"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        CliRun r = CliRun.of("run", "--config", config.toString(), "--set", "topic.partitions=0");
        assertEquals(1, r.exitCode());
        assertEquals("carousel: config key topic.partitions: expected an integer >= 1, got '0'", r.err().strip());
        assertEquals("", r.out());
    }

    @Test
    @Timeout(120)
    void runAsAProcessProcessesReplayedEventsAndStopsOnSigtermWithExitZero() throws Exception {
        int port = freePort();
        Path cfg = dir.resolve("run.properties");
        Files.writeString(cfg, String.join("\n",
                "embedded.port=" + port,
                "embedded.dir=" + dir.resolve("kafka"),
                "state.dir=" + dir.resolve("state"),
                "commit.interval.ms=100",
                "topic.partitions=1",
                "http.port=0",
                ""));
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path out = dir.resolve("run.out");
        Path err = dir.resolve("run.err");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, Main.class.getName(), "run", "--config", cfg.toString())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        try {
            String printed = awaitOutput(out, "Kafka Streams is RUNNING", p, err);
            assertTrue(printed.contains("Kafka        127.0.0.1:" + port + " (embedded broker, data in " + dir.resolve("kafka")), printed);
            assertTrue(printed.contains("application  carousel (exactly_once_v2)"), printed);
            assertTrue(printed.contains("state dir    " + dir.resolve("state")), printed);
            assertTrue(printed.contains("events       carousel.events"), printed);
            assertTrue(printed.contains("dead-letter  carousel.dead-letter"), printed);
            assertTrue(printed.contains("dashboard    http://127.0.0.1:"), printed);

            Path csv = dir.resolve("probe.csv");
            Files.writeString(csv, "timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n2024-01-01T00:02:00Z,3\n");
            CliRun r = CliRun.of("replay", "--input", csv.toString(), "--config", cfg.toString());
            assertEquals(0, r.exitCode(), r.err());
            List<ConsumerRecord<byte[], byte[]>> enriched = awaitRecords("127.0.0.1:" + port, "carousel.enriched", 3);
            assertEquals("probe", string(enriched.get(2).key()));
            assertTrue(string(enriched.get(2).value()).contains("\"carousel\":{"), string(enriched.get(2).value()));

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "run did not stop on SIGTERM");
            List<String> lines = Files.readAllLines(out);
            assertEquals(0, p.exitValue(), String.join("\n", lines) + "\n" + Files.readString(err));
            assertEquals(List.of("stopping...", "stopped"), lines.subList(lines.size() - 2, lines.size()),
                    String.join("\n", lines));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        assertFalse(p.isAlive());
    }

    private static List<ConsumerRecord<byte[], byte[]>> awaitRecords(String bootstrap, String topic, int n) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<ConsumerRecord<byte[], byte[]>> got = List.of();
        while (System.nanoTime() < deadline) {
            got = KafkaIO.readAll(bootstrap, topic, WAIT);
            if (got.size() >= n) {
                return got;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(topic + " has " + got.size() + " records, expected " + n);
    }

    /** Waits until the process printed a line starting with {@code wanted}; returns everything it printed so far. */
    private static String awaitOutput(Path out, String wanted, Process p, Path err) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String printed = "";
        while (System.nanoTime() < deadline) {
            printed = Files.readString(out);
            if (printed.lines().anyMatch(l -> l.startsWith(wanted))) {
                return printed;
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no line '" + wanted + "' from run; it printed:\n" + printed
                + "\nstderr:\n" + Files.readString(err));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
