package io.carousel.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.carousel.config.CarouselConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker with Carousel's default Streams settings (exactly_once_v2, replication 1):
 * without the single-node broker settings a stateful topology waits in REBALANCING forever.
 */
class EmbeddedKafkaStreamsTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(180)
    void statefulExactlyOnceTopologyRunsOnTheEmbeddedBroker() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"), 0, 0)) {
            CarouselConfig config = CarouselConfig.load(null, List.of("state.dir=" + tmp.resolve("state"),
                    "application.id=carousel-it", "commit.interval.ms=100"));
            kafka.createTopics(Map.of(config.topicEvents(), config.topicPartitions(),
                    config.topicEnriched(), config.topicPartitions()), Map.of());

            StreamsBuilder builder = new StreamsBuilder();
            builder.stream(config.topicEvents(), Consumed.with(Serdes.String(), Serdes.String()))
                    .groupByKey()
                    .count()
                    .toStream()
                    .to(config.topicEnriched(), Produced.with(Serdes.String(), Serdes.Long()));

            try (KafkaStreams streams = new KafkaStreams(builder.build(),
                    config.streamsProperties(kafka.bootstrapServers()))) {
                streams.start();
                Properties pp = new Properties();
                pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
                try (KafkaProducer<String, String> producer =
                             new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
                    for (String key : List.of("a", "b", "a", "a")) {
                        producer.send(new ProducerRecord<>(config.topicEvents(), key, "{}"));
                    }
                }
                assertEquals(Map.of("a", 3L, "b", 1L), latestCounts(kafka.bootstrapServers(), config.topicEnriched()));
                streams.close(Duration.ofSeconds(30));
            }
        }
    }

    private static Map<String, Long> latestCounts(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "carousel-it-reader");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, Long> counts = new HashMap<>();
        try (KafkaConsumer<String, Long> consumer =
                     new KafkaConsumer<>(p, new StringDeserializer(), new LongDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (System.nanoTime() < deadline && !counts.equals(Map.of("a", 3L, "b", 1L))) {
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(200))) {
                    counts.put(r.key(), r.value());
                }
            }
        }
        return counts;
    }
}
