package io.carousel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.carousel.config.CarouselConfig;
import io.carousel.e2e.KafkaIO;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.streams.CarouselApp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar as docker/compose.yaml starts it: no flags, configured only by the carousel service's
 * CAROUSEL_* environment, against a real broker (the test's, in place of the kafka service; state
 * and HTTP moved to a temporary directory and loopback). It must reach RUNNING, process events
 * with exactly-once outputs, and stop with exit 0 on SIGTERM within the file's grace period.
 */
class DockerComposeIT {

    @TempDir
    Path tmp;

    @Test
    @Timeout(180)
    void theJarRunsWithTheComposeFilesEnvironment() throws Exception {
        JsonNode service = new ObjectMapper(new YAMLFactory()).readTree(CarouselProcess.BASEDIR.resolve("docker/compose.yaml")
                .toFile()).get("services").get("carousel");
        Map<String, String> env = new HashMap<>();
        service.get("environment").fields()
                .forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText().replaceAll("\\$\\{[^}]*}", "a-secret-token")));
        Duration grace = Duration.ofSeconds(Long.parseLong(service.get("stop_grace_period").asText().replace("s", "")));
        try (EmbeddedKafka broker = ItSetup.startBroker(tmp.resolve("kafka"))) {
            env.put("CAROUSEL_BOOTSTRAP_SERVERS", broker.bootstrapServers());
            env.put("CAROUSEL_STATE_DIR", tmp.resolve("state").toString());
            env.put("CAROUSEL_HTTP_HOST", "127.0.0.1"); // tests listen on loopback only
            env.put("CAROUSEL_HTTP_PORT", "0");
            CarouselConfig config = CarouselConfig.load(CarouselProcess.CONFIG, env, List.of());
            assertEquals(8, config.topicPartitions());
            try (CarouselProcess p = CarouselProcess.start("compose", CarouselProcess.BASEDIR.resolve("target/it-logs/compose.log"),
                    List.of(), env)) {
                p.awaitRunning(Duration.ofSeconds(120));
                assertTrue(p.output().contains("Kafka        " + broker.bootstrapServers() + "\n"),
                        "uses the configured broker, starts none: " + p.tail(20));
                assertTrue(p.output().contains("(exactly_once_v2)"), p.tail(20));
                Properties pp = new Properties();
                pp.put("bootstrap.servers", broker.bootstrapServers());
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
                    for (int i = 0; i < 50; i++) {
                        producer.send(new ProducerRecord<>(config.topicEvents(), "sensor-" + (i % 5),
                                "{\"timestamp\": " + (1_700_000_000_000L + i * 1000L) + ", \"value\": " + i + "}"));
                    }
                }
                List<ConsumerRecord<byte[], byte[]>> enriched = List.of();
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (enriched.size() < 50 && System.nanoTime() < deadline) {
                    Thread.sleep(500);
                    enriched = KafkaIO.readAll(broker.bootstrapServers(), config.topicEnriched(), Duration.ofSeconds(30));
                }
                assertEquals(50, enriched.size(), p.tail(30));
                JsonNode last = new ObjectMapper().readTree(new String(enriched.get(enriched.size() - 1).value(), StandardCharsets.UTF_8));
                assertTrue(last.get("carousel").has("forecast"), last.toString());
                assertEquals(8, broker.admin().describeTopics(List.of(config.topicEvents())).allTopicNames().get()
                        .get(config.topicEvents()).partitions().size(), "created with the compose file's partitions");
                assertEquals(CarouselApp.topics(config).size(), CarouselApp.topics(config).keySet().stream()
                        .filter(t -> topicExists(broker, t)).count());
                assertEquals(0, p.stop(grace), "SIGTERM (docker stop) commits, closes and exits 0: " + p.tail(20));
            }
        }
    }

    private static boolean topicExists(EmbeddedKafka broker, String topic) {
        try {
            return broker.admin().listTopics().names().get().contains(topic);
        } catch (Exception e) {
            throw new AssertionError("cannot list topics", e);
        }
    }
}
