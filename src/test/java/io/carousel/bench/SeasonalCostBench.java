package io.carousel.bench;

import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.CarouselTopology;
import io.carousel.streams.ModelSource;
import io.carousel.streams.StreamSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * What the seasonal source costs per event: the production topology (RocksDB stores) over keys
 * whose series repeat every 50 events, with {@code forecast.seasonal} on and off, measured
 * alternately in one run. Every key trains once, at its 200th event (a small model, accepted
 * whatever its loss: the point is the re-warm that detects the season); CPU time of the driver's
 * thread is counted only over each key's events 250..389, when no training runs, so the difference
 * is the per-event history read and the gate's third average. With {@code forecast.horizon} > 1
 * the seasonal roll-out's range read is in it too.
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.carousel.bench.SeasonalCostBench \
 *     [--keys 200] [--rounds 5] [--set forecast.horizon=12]...
 * </pre>
 */
public final class SeasonalCostBench {

    private static final int TRAIN_AT = 200;
    private static final int FROM = 250;
    private static final int TO = 390;

    public static void main(String[] args) throws Exception {
        int keys = 200;
        int rounds = 5;
        Map<String, String> overrides = new HashMap<>(Map.of("retrain.every-events", Integer.toString(TRAIN_AT),
                "retrain.drift", "false", "retrain.epochs", "1", "retrain.seq-len", "32", "model.hidden", "8",
                "retrain.max-regression", "1000"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--keys" -> keys = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--set" -> {
                    String[] kv = args[++i].split("=", 2);
                    overrides.put(kv[0], kv[1]);
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        double[] on = new double[rounds];
        double[] off = new double[rounds];
        double[] share = new double[1];
        for (int r = -1; r < rounds; r++) { // round -1 warms the JIT and RocksDB up
            Map<String, String> a = new HashMap<>(overrides);
            a.put("forecast.seasonal", "true");
            Map<String, String> b = new HashMap<>(overrides);
            b.put("forecast.seasonal", "false");
            double x = run(CarouselConfig.of(a), keys, share);
            double y = run(CarouselConfig.of(b), keys, null);
            if (r >= 0) {
                on[r] = x;
                off[r] = y;
            }
        }
        double mOn = Benches.median(on);
        double mOff = Benches.median(off);
        System.out.printf(Locale.ROOT, "seasonal cost, %d keys, events %d..%d of each, median of %d rounds (%.0f %% of them served by seasonal)%n",
                keys, FROM, TO - 1, rounds, 100 * share[0]);
        System.out.printf(Locale.ROOT, "  forecast.seasonal=true   %8.2f us per event (CPU)   %s%n", mOn, Arrays.toString(on));
        System.out.printf(Locale.ROOT, "  forecast.seasonal=false  %8.2f us per event (CPU)   %s%n", mOff, Arrays.toString(off));
        double[] diff = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            diff[r] = on[r] - off[r];
        }
        System.out.printf(Locale.ROOT, "  difference               %8.2f us per event (median of the rounds' differences %s)%n",
                Benches.median(diff), Arrays.toString(diff));
    }

    /** CPU microseconds per event over the measured window. */
    private static double run(CarouselConfig config, int keys, double[] seasonalShare) throws Exception {
        StreamSettings s = StreamSettings.from(config).withSynchronousTraining();
        Path state = Files.createTempDirectory("carousel-seasonal-cost");
        Properties p = CarouselApp.streamsProperties(config, "127.0.0.1:1");
        p.put("state.dir", state.toString());
        Random rnd = new Random(1);
        long t0 = 1_704_067_200_000L;
        try (TopologyTestDriver d = new TopologyTestDriver(CarouselTopology.build(s, ModelSource.from(s)), p)) {
            TestInputTopic<byte[], byte[]> in = d.createInputTopic(s.eventsTopic(), new ByteArraySerializer(), new ByteArraySerializer());
            ByteArrayDeserializer de = new ByteArrayDeserializer();
            TestOutputTopic<byte[], byte[]> enriched = d.createOutputTopic(s.enrichedTopic(), de, de);
            TestOutputTopic<byte[], byte[]> forecasts = d.createOutputTopic(s.forecastsTopic(), de, de);
            TestOutputTopic<byte[], byte[]> anomalies = d.createOutputTopic(s.anomaliesTopic(), de, de);
            java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
            byte[][] key = new byte[keys][];
            for (int k = 0; k < keys; k++) {
                key[k] = ("sensor-" + k).getBytes(StandardCharsets.UTF_8);
            }
            long nanos = 0;
            long seasonal = 0;
            for (int round = 0; round < TO; round++) {
                byte[][] values = new byte[keys][];
                for (int k = 0; k < keys; k++) {
                    double v = ((round + k) % 50 < 25 ? 20 : 10) + 0.01 * rnd.nextGaussian();
                    values[k] = String.format(Locale.ROOT, "{\"timestamp\":%d,\"value\":%.4f}", t0 + round * 60_000L, v)
                            .getBytes(StandardCharsets.UTF_8);
                }
                long start = cpu.getCurrentThreadCpuTime();
                for (int k = 0; k < keys; k++) {
                    in.pipeInput(key[k], values[k], t0 + round * 60_000L);
                }
                long spent = cpu.getCurrentThreadCpuTime() - start;
                if (round >= FROM) {
                    nanos += spent;
                }
                for (byte[] e : enriched.readValuesToList()) {
                    if (round >= FROM && new String(e, StandardCharsets.UTF_8).contains("\"source\":\"seasonal\"")) {
                        seasonal++;
                    }
                }
                forecasts.readValuesToList();
                anomalies.readValuesToList();
            }
            if (seasonalShare != null) {
                seasonalShare[0] = seasonal / (double) ((long) keys * (TO - FROM));
            }
            return nanos / 1e3 / ((long) keys * (TO - FROM));
        } finally {
            Benches.deleteTree(state);
        }
    }

    private SeasonalCostBench() {}
}
