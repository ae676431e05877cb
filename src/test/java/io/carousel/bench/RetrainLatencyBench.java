package io.carousel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.streams.CarouselTopology;
import io.carousel.streams.ModelSource;
import io.carousel.streams.StreamSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Retraining's cost to the stream, against a real (embedded) broker: the time to retrain one
 * model (2,000 events of history, H = 32, L = 64, 5 epochs), then per-event latency (produced to
 * enriched output committed, read_committed) at a steady rate with retraining off and with keys
 * retraining continually on the trainer pool, in one run. Prints p50/p99 of both and the ratio.
 *
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.carousel.bench.RetrainLatencyBench [rate] [seconds]
 * </pre>
 */
public final class RetrainLatencyBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int KEYS = 20;

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        System.out.printf(Locale.ROOT, "retrain one model (2000 events, H=32, L=64, 5 epochs, batch 32): %.0f ms (median of 5)%n",
                RetrainTimeBench.medianMillis(5));
        Path dir = Files.createTempDirectory("carousel-latency");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0)) {
            // a first run warms the JIT and the broker up: without it the first measured run pays for both
            run(kafka, dir, "warm-up", Map.of("retrain.every-events", "0", "retrain.drift", "false"), rate, Math.min(seconds, 15));
            double[] off = run(kafka, dir, "off", Map.of("retrain.every-events", "0", "retrain.drift", "false"), rate, seconds);
            double[] on = run(kafka, dir, "on", Map.of("retrain.every-events", "500", "retrain.epochs", "5",
                    "retrain.seq-len", "64", "retrain.batch", "32", "history.max-events", "2000"), rate, seconds);
            System.out.printf(Locale.ROOT, "%-22s %10s %10s %10s%n", "latency (ms)", "p50", "p99", "events");
            System.out.printf(Locale.ROOT, "%-22s %10.1f %10.1f %10.0f%n", "without retraining", off[0], off[1], off[2]);
            System.out.printf(Locale.ROOT, "%-22s %10.1f %10.1f %10.0f%n", "with retraining", on[0], on[1], on[2]);
            System.out.printf(Locale.ROOT, "p99 ratio with/without: %.2f (target < 2); trainings applied during the run: see log%n",
                    on[1] / off[1]);
        } finally {
            // the broker has stopped by now; its logs alone reach gigabytes over a run
            Benches.deleteTree(dir);
        }
    }

    /** One run on fresh topics: returns {p50 ms, p99 ms, events measured}. */
    private static double[] run(EmbeddedKafka kafka, Path dir, String name, Map<String, String> extra, int rate, int seconds)
            throws Exception {
        Map<String, String> cfg = new HashMap<>(extra);
        for (String t : List.of("events", "enriched", "forecasts", "anomalies", "dead-letter", "models")) {
            cfg.put("topic." + t, "bench-" + name + "-" + t);
        }
        cfg.put("application.id", "bench-" + name);
        cfg.put("state.dir", dir.resolve("state-" + name).toString());
        cfg.put("commit.interval.ms", "100");
        cfg.put("model.hidden", "32");
        CarouselConfig config = CarouselConfig.of(cfg);
        StreamSettings s = StreamSettings.from(config);
        Map<String, Integer> topics = new HashMap<>();
        for (String t : List.of(s.eventsTopic(), s.enrichedTopic(), s.forecastsTopic(), s.anomaliesTopic(), s.deadLetterTopic(), s.controlTopic())) {
            topics.put(t, 2);
        }
        kafka.createTopics(topics, Map.of());
        Properties props = config.streamsProperties(kafka.bootstrapServers());
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        try (KafkaStreams streams = new KafkaStreams(CarouselTopology.build(s, ModelSource.from(s)), props);
             KafkaConsumer<byte[], byte[]> consumer = consumer(kafka, name);
             KafkaProducer<String, String> producer = producer(kafka)) {
            streams.start();
            consumer.subscribe(List.of(s.enrichedTopic()));
            long t0 = System.nanoTime();
            long sent = 0;
            long end = t0 + seconds * 1_000_000_000L;
            long warm = t0 + 5_000_000_000L; // the first seconds include start-up and rebalance
            while (System.nanoTime() < end) {
                long due = t0 + sent * 1_000_000_000L / rate;
                while (System.nanoTime() < due) {
                    drain(consumer, latencies, warm, Duration.ZERO);
                }
                int key = (int) (sent % KEYS);
                long i = sent / KEYS;
                String v = String.format(Locale.ROOT, "{\"timestamp\":%d,\"value\":%.5f,\"sentNs\":%d}",
                        1_700_000_000_000L + i * 60_000, Math.sin(2 * Math.PI * i / 48.0 + key) + 0.1 * Math.sin(i * 1.7),
                        System.nanoTime());
                producer.send(new ProducerRecord<>(s.eventsTopic(), "k" + key, v));
                sent++;
            }
            producer.flush();
            long stop = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < stop) {
                drain(consumer, latencies, warm, Duration.ofMillis(100));
            }
            streams.close(Duration.ofSeconds(30));
        }
        List<Double> l = new ArrayList<>(latencies);
        Collections.sort(l);
        return new double[] {l.get(l.size() / 2), l.get((int) (l.size() * 0.99)), l.size()};
    }

    private static void drain(KafkaConsumer<byte[], byte[]> c, List<Double> out, long warm, Duration wait) throws Exception {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(wait)) {
            long now = System.nanoTime();
            long sent = JSON.readTree(new String(r.value(), StandardCharsets.UTF_8)).get("sentNs").asLong();
            if (sent > warm) {
                out.add((now - sent) / 1e6);
            }
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(EmbeddedKafka kafka, String name) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("group.id", "bench-reader-" + name);
        p.put("isolation.level", "read_committed");
        p.put("auto.offset.reset", "earliest");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static KafkaProducer<String, String> producer(EmbeddedKafka kafka) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("linger.ms", "0");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }
}
