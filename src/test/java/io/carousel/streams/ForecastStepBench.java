package io.carousel.streams;

import io.carousel.config.CarouselConfig;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Carousel's own work per event, without Kafka: parse the record, read the key's state from its
 * bytes, step the forecast (scoring, gate, LSTM at H = 32), write the state back, and format the
 * enriched and forecast records; over 1,000 keys in turn, each with its own stored state, as
 * ThroughputBench's stream does (keys served as trained keys are, the LSTM's forecast weighed
 * against persistence). What the Carousel/passthrough ratio of ThroughputBench is made of, steadily
 * enough to tell a change of a few percent; profile it with async-profiler's agent
 * ({@code -Dbench.args="-jvmArgsAppend -agentpath:.../libasyncProfiler.so=start,event=cpu,file=out.txt,collapsed"}).
 *
 * <pre>mvn -Pbench test-compile exec:exec -Dbench=ForecastStepBench</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 6, time = 2)
public class ForecastStepBench {

    private static final int KEYS = 1000;
    private static final int ROUNDS = 64;

    private StreamSettings settings;
    private EventParser parser;
    private KeyForecaster forecaster;
    private OutputWriter writer;
    private final Outcome outcome = new Outcome();
    private byte[][] keys;
    private byte[][][] values; // [round][key]
    private byte[][] states;
    private KeyState reused;
    private int cursor;

    @Setup
    public void setup() throws Rejection {
        settings = StreamSettings.from(CarouselConfig.of(Map.of("retrain.every-events", "0", "retrain.drift", "false")));
        ModelSource fresh = ModelSource.from(settings);
        forecaster = new KeyForecaster(settings, fresh.model(), 1); // version 1: the trained path
        parser = new EventParser(settings);
        writer = new OutputWriter(settings);
        keys = new byte[KEYS][];
        values = new byte[ROUNDS][KEYS][];
        states = new byte[KEYS][];
        SplittableRandom r = new SplittableRandom(5);
        for (int k = 0; k < KEYS; k++) {
            keys[k] = ("sensor-" + k).getBytes(StandardCharsets.UTF_8);
            for (int round = 0; round < ROUNDS; round++) {
                double v = 20 + 5 * Math.sin(round / 7.0 + k) + r.nextGaussian();
                values[round][k] = String.format(Locale.ROOT, "{\"timestamp\":%d,\"value\":%.4f}",
                        1_700_000_000_000L + round * 60_000L, v).getBytes(StandardCharsets.UTF_8);
            }
        }
        // every key past its warm-up, as in a running stream (the timestamps then go round again;
        // an event before the key's last one is processed all the same: events.out-of-order=process)
        for (int i = 0; i < 4 * ROUNDS * KEYS; i++) {
            event();
        }
    }

    private int event() throws Rejection {
        int i = cursor++;
        int k = i % KEYS;
        byte[] value = values[(i / KEYS) % ROUNDS][k];
        ParsedEvent e = parser.parse(keys[k], value, 0);
        byte[] bytes = states[k];
        KeyState s = bytes == null ? forecaster.newState() : (reused = KeyState.deserialise(bytes, reused));
        forecaster.process(s, e.timestamp(), e.features(), null, outcome);
        states[k] = s.serialise();
        return writer.enriched(e, outcome).length + writer.forecast(e.key(), outcome).length;
    }

    @Benchmark
    public int perEvent() throws Rejection {
        return event();
    }
}
