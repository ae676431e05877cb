package io.carousel.bench;

import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.CarouselTopology;
import io.carousel.streams.ModelSource;
import io.carousel.streams.StreamSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * Records per second through the production topology (parse, key-state and history stores in
 * RocksDB, LSTM step, scoring, the three output records), and through the same topology with the
 * LSTM step replaced by a no-op ({@link StreamSettings#withoutLstm}), measured alternately in one
 * run so that the machine's noise hits both alike. Retraining is off: this is the per-event path.
 * Under TopologyTestDriver there is no broker, so the figure is the processing cost per record on
 * one thread, in records per second of that thread's CPU time (immune to other load on a shared
 * machine); the end-to-end throughput against a broker is {@code ThroughputBench}'s.
 *
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.carousel.bench.TopologyThroughputBench \
 *     [--keys 1000] [--events 100000] [--rounds 5] [--set model.hidden=32]...
 * </pre>
 */
public final class TopologyThroughputBench {

    public static void main(String[] args) throws Exception {
        int keys = 1000;
        int events = 100_000;
        int rounds = 5;
        Map<String, String> overrides = new HashMap<>(Map.of("retrain.every-events", "0", "retrain.drift", "false"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--keys" -> keys = Integer.parseInt(args[++i]);
                case "--events" -> events = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--set" -> {
                    String[] kv = args[++i].split("=", 2);
                    overrides.put(kv[0], kv[1]);
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        CarouselConfig config = CarouselConfig.of(overrides);
        StreamSettings lstm = StreamSettings.from(config).withSynchronousTraining();
        byte[][] keyBytes = new byte[keys][];
        for (int k = 0; k < keys; k++) {
            keyBytes[k] = ("sensor-" + k).getBytes(StandardCharsets.UTF_8);
        }
        double[] withLstm = new double[rounds];
        double[] without = new double[rounds];
        // round 0 of each warms the JIT and RocksDB up and is not counted
        for (int r = -1; r < rounds; r++) {
            double a = run(config, lstm, keyBytes, events);
            double b = run(config, lstm.withoutLstm(), keyBytes, events);
            if (r >= 0) {
                withLstm[r] = a;
                without[r] = b;
            }
        }
        double ma = Benches.median(withLstm);
        double mb = Benches.median(without);
        System.out.printf(Locale.ROOT, "topology throughput, %d keys, %d events per round, H = %d, %d layer(s), median of %d rounds%n",
                keys, events, lstm.hidden(), lstm.layers(), rounds);
        System.out.printf(Locale.ROOT, "  with the LSTM step   %,10.0f records per CPU-second   %s%n", ma, Arrays.toString(round(withLstm)));
        System.out.printf(Locale.ROOT, "  LSTM step as a no-op %,10.0f records per CPU-second   %s%n", mb, Arrays.toString(round(without)));
        double[] pairs = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            pairs[r] = withLstm[r] / without[r]; // the two runs of a round are back to back: the machine's load drifts less
        }
        double ratio = Benches.median(pairs);
        System.out.printf(Locale.ROOT, "  ratio %.3f (median of the rounds' ratios %s): the LSTM costs %.1f%% of the throughput%n",
                ratio, Arrays.toString(Arrays.stream(pairs).map(x -> Math.round(x * 1000) / 1000.0).toArray()), 100 * (1 - ratio));
    }

    private static double run(CarouselConfig config, StreamSettings s, byte[][] keys, int events) throws Exception {
        Path state = Files.createTempDirectory("carousel-throughput");
        Properties p = CarouselApp.streamsProperties(config, "127.0.0.1:1");
        p.put("state.dir", state.toString());
        Random rnd = new Random(1);
        long t0 = Instant.parse("2024-01-01T00:00:00Z").toEpochMilli();
        byte[][] values = new byte[events][];
        for (int i = 0; i < events; i++) {
            int round = i / keys.length;
            double v = 20 + 5 * Math.sin(round / 7.0) + rnd.nextGaussian();
            values[i] = String.format(Locale.ROOT, "{\"timestamp\":%d,\"value\":%.4f,\"site\":\"north\"}",
                    t0 + round * 60_000L, v).getBytes(StandardCharsets.UTF_8);
        }
        try (TopologyTestDriver d = new TopologyTestDriver(CarouselTopology.build(s, ModelSource.from(s)), p)) {
            TestInputTopic<byte[], byte[]> in = d.createInputTopic(s.eventsTopic(), new ByteArraySerializer(), new ByteArraySerializer());
            ByteArrayDeserializer de = new ByteArrayDeserializer();
            TestOutputTopic<byte[], byte[]> enriched = d.createOutputTopic(s.enrichedTopic(), de, de);
            TestOutputTopic<byte[], byte[]> forecasts = d.createOutputTopic(s.forecastsTopic(), de, de);
            TestOutputTopic<byte[], byte[]> anomalies = d.createOutputTopic(s.anomaliesTopic(), de, de);
            java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
            long start = cpu.getCurrentThreadCpuTime();
            long out = 0;
            for (int i = 0; i < events; i++) {
                in.pipeInput(keys[i % keys.length], values[i], t0 + (i / keys.length) * 60_000L);
                if (i % 1000 == 999) {
                    out += enriched.readValuesToList().size();
                    forecasts.readValuesToList();
                    anomalies.readValuesToList();
                }
            }
            out += enriched.readValuesToList().size();
            // CPU time of this thread, the one TopologyTestDriver processes on: other load on a shared
            // machine stretches wall-clock time, not this (RocksDB's background threads are not in it)
            double seconds = (cpu.getCurrentThreadCpuTime() - start) / 1e9;
            if (out != events) {
                throw new IllegalStateException(out + " enriched records for " + events + " events");
            }
            return events / seconds;
        } finally {
            Benches.deleteTree(state);
        }
    }

    private static long[] round(double[] a) {
        return Arrays.stream(a).mapToLong(Math::round).toArray();
    }

    private TopologyThroughputBench() {}
}
