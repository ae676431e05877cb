package io.carousel.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {
    private static final String TOPIC = "carousel.test";

    @TempDir
    Path tmp;

    /** One broker lifecycle end to end: start, transactions, restart on the same data, port clash. */
    @Test
    @Timeout(180)
    void keepsTopicsAndCommittedDataAcrossRestartsAndRefusesABusyPort() throws Exception {
        Path dir = tmp.resolve("kafka");
        String clusterId;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0, 0)) {
            assertEquals("127.0.0.1:" + kafka.port(), kafka.bootstrapServers());
            kafka.createTopics(Map.of(TOPIC, 2), Map.of("cleanup.policy", "delete"));
            kafka.createTopics(Map.of(TOPIC, 3), Map.of()); // exists: left as it is, with a warning
            assertEquals(2, partitionCount(kafka));

            try (KafkaProducer<String, String> producer = transactionalProducer(kafka.bootstrapServers())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, "sensor-1", "committed-1"));
                producer.send(new ProducerRecord<>(TOPIC, "sensor-2", "committed-2"));
                producer.commitTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, "sensor-1", "aborted"));
                producer.flush();
                producer.abortTransaction();
            }
            assertEquals(List.of("committed-1", "committed-2"), readCommitted(kafka.bootstrapServers(), 2));
            clusterId = kafka.clusterId();
        }
        assertTrue(Files.exists(dir.resolve("meta.properties")));

        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0, 0)) {
            assertEquals(clusterId, kafka.clusterId());
            assertTrue(kafka.admin().listTopics().names().get().contains(TOPIC));
            assertEquals(2, partitionCount(kafka));
            assertEquals(List.of("committed-1", "committed-2"), readCommitted(kafka.bootstrapServers(), 2));

            Path other = tmp.resolve("other");
            EmbeddedKafkaException e = assertThrows(EmbeddedKafkaException.class,
                    () -> EmbeddedKafka.start(other, kafka.port(), 0));
            assertEquals("cannot start the embedded Kafka broker: 127.0.0.1:" + kafka.port() + " is already in use",
                    e.getMessage());
        }
    }

    @Test
    void refusesABusyControllerPortWithOneLine() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            EmbeddedKafkaException e = assertThrows(EmbeddedKafkaException.class,
                    () -> EmbeddedKafka.start(tmp.resolve("kafka"), 0, busy.getLocalPort()));
            assertEquals("cannot start the embedded Kafka broker: 127.0.0.1:" + busy.getLocalPort()
                    + " is already in use", e.getMessage());
        }
    }

    private static int partitionCount(EmbeddedKafka kafka) throws Exception {
        return kafka.admin().describeTopics(Set.of(TOPIC)).allTopicNames().get().get(TOPIC).partitions().size();
    }

    private static KafkaProducer<String, String> transactionalProducer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "carousel-test-tx");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Reads the topic from the start until {@code expected} values arrived, then a little longer. */
    private static List<String> readCommitted(String bootstrap, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "carousel-test-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            long settle = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settle)) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
                if (values.size() >= expected && settle == Long.MAX_VALUE) {
                    settle = System.nanoTime() + Duration.ofSeconds(1).toNanos(); // let an aborted record show up if it would
                }
            }
        }
        values.sort(null);
        return values;
    }
}
