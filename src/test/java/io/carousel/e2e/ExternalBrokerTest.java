package io.carousel.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run}'s start-up path against configured brokers (bootstrap.servers set: no embedded broker
 * of its own; it creates the topics), and an output too large to send: skipped with a TOO_LARGE
 * dead letter instead of stopping the stream (at_least_once; under exactly_once_v2 the producer's
 * transaction cannot survive the failed send, see CarouselApp.ProductionHandler).
 */
class ExternalBrokerTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void anOutputTooLargeToSendBecomesADeadLetterAndTheStreamGoesOn() throws Exception {
        // Kafka logs the refused send at ERROR before the handler skips it: expected here, so not shown
        String collector = "org.apache.kafka.streams.processor.internals.RecordCollectorImpl";
        Level before = LogManager.getLogger(collector).getLevel();
        Configurator.setLevel(collector, Level.OFF);
        try {
            run();
        } finally {
            Configurator.setLevel(collector, before);
        }
    }

    private void run() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"), 0, 0)) {
            CarouselConfig config = CarouselConfig.of(Map.of(
                    "bootstrap.servers", kafka.bootstrapServers(),
                    "application.id", "carousel-external",
                    "state.dir", tmp.resolve("state").toString(),
                    "processing.guarantee", "at_least_once",
                    "commit.interval.ms", "100",
                    "topic.partitions", "1"));
            try (CarouselApp app = CarouselApp.prepare(config)) {
                assertTrue(app.broker().isEmpty());
                assertTrue(kafka.admin().listTopics().names().get().containsAll(CarouselApp.topics(config).keySet()));
                app.start();
                assertTrue(app.awaitRunning(WAIT), "state " + app.state());

                // as large as a producer may send; its enriched form (+ the carousel object) is not
                StringBuilder json = new StringBuilder("{\"timestamp\": 1700000000000, \"value\": 1.0, \"pad\": \"");
                while (json.length() < 1_048_420) {
                    json.append('x');
                }
                json.append("\"}");
                Properties pp = new Properties();
                pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
                try (KafkaProducer<byte[], byte[]> producer =
                             new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
                    producer.send(new ProducerRecord<>(config.topicEvents(), bytes("k"), bytes(json.toString()))).get();
                    producer.send(new ProducerRecord<>(config.topicEvents(), bytes("k"),
                            bytes("{\"timestamp\": 1700000060000, \"value\": 2.0}"))).get();
                }
                assertTrue(KafkaIO.awaitConsumed(kafka.admin(), "carousel-external", config.topicEvents(), WAIT),
                        "state " + app.state() + ", failure " + app.failure());
                assertEquals(KafkaStreams.State.RUNNING, app.state());

                List<ConsumerRecord<byte[], byte[]>> dead = KafkaIO.readAll(kafka.bootstrapServers(), config.topicDeadLetter(), WAIT);
                assertEquals(1, dead.size());
                ConsumerRecord<byte[], byte[]> d = dead.get(0);
                assertNull(d.value());
                assertEquals("k", new String(d.key(), StandardCharsets.UTF_8));
                assertEquals("TOO_LARGE", header(d, DeadLetters.REASON));
                assertTrue(header(d, DeadLetters.MESSAGE).startsWith("the output to " + config.topicEnriched()));
                assertEquals(config.topicEvents(), header(d, DeadLetters.TOPIC));
                assertEquals("0", header(d, DeadLetters.OFFSET));

                List<ConsumerRecord<byte[], byte[]>> enriched = KafkaIO.readAll(kafka.bootstrapServers(), config.topicEnriched(), WAIT);
                assertEquals(1, enriched.size());
                assertTrue(new String(enriched.get(0).value(), StandardCharsets.UTF_8).startsWith("{\"timestamp\": 1700000060000"));
                assertEquals(2, KafkaIO.readAll(kafka.bootstrapServers(), config.topicForecasts(), WAIT).size());
            }
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
