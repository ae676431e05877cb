package io.carousel.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code demo}'s sensors: {@code sensors} series, each a daily cycle (a period of
 * {@link #PERIOD} events) of its own amplitude and phase, a second, weekly-like harmonic, a slow
 * drift, Gaussian noise, and now and then an injected anomaly (a spike, or a level shift that
 * lasts a while), one event per sensor per tick. Event time runs at one minute per tick from a
 * fixed start, much faster than the wall clock, so the models have something to learn within
 * minutes. Deterministic for a seed.
 */
final class DemoGenerator implements Runnable {

    static final int PERIOD = 96;
    static final long STEP_MS = 60_000;
    static final long T0 = 1_704_067_200_000L; // 2024-01-01T00:00:00Z

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final int sensors;
    private final Duration tick;
    private final Random random;
    private final double[] amplitude;
    private final double[] phase;
    private final double[] base;
    private final double[] shift;
    private final int[] shiftLeft;
    private volatile boolean stopped;
    private long step;

    DemoGenerator(String bootstrap, String topic, int sensors, Duration tick, long seed) {
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.CLIENT_ID_CONFIG, "carousel-demo", ProducerConfig.LINGER_MS_CONFIG, 20),
                new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.sensors = sensors;
        this.tick = tick;
        this.random = new Random(seed);
        amplitude = new double[sensors];
        phase = new double[sensors];
        base = new double[sensors];
        shift = new double[sensors];
        shiftLeft = new int[sensors];
        for (int i = 0; i < sensors; i++) {
            amplitude[i] = 2 + 6 * random.nextDouble();
            phase[i] = 2 * Math.PI * random.nextDouble();
            base[i] = 15 + 20 * random.nextDouble();
        }
    }

    static String name(int i) {
        String[] kinds = {"temperature", "pressure", "humidity", "flow"};
        return String.format(Locale.ROOT, "%s-%02d", kinds[i % kinds.length], i);
    }

    /** The value of sensor i at step t, and whether an anomaly was injected there. */
    double value(int i, long t, boolean[] injected) {
        double day = 2 * Math.PI * t / PERIOD;
        double v = base[i] + amplitude[i] * Math.sin(day + phase[i]) + 0.3 * amplitude[i] * Math.sin(3 * day + phase[i])
                + 0.002 * t * (i % 3 - 1) + 0.12 * amplitude[i] * random.nextGaussian();
        injected[0] = false;
        if (shiftLeft[i] > 0) {
            shiftLeft[i]--;
            v += shift[i];
        } else if (t > 400 && random.nextDouble() < 1.0 / 900) {
            injected[0] = true;
            if (random.nextBoolean()) {
                v += (random.nextBoolean() ? 1 : -1) * amplitude[i] * (2.5 + random.nextDouble());
            } else {
                shift[i] = (random.nextBoolean() ? 1 : -1) * amplitude[i] * 1.5;
                shiftLeft[i] = 20 + random.nextInt(40);
                v += shift[i];
            }
        }
        return v;
    }

    @Override
    public void run() {
        boolean[] injected = new boolean[1];
        try {
            while (!stopped) {
                long ts = T0 + step * STEP_MS;
                for (int i = 0; i < sensors; i++) {
                    double v = value(i, step, injected);
                    String json = String.format(Locale.ROOT, "{\"timestamp\": %d, \"value\": %.4f, \"site\": \"plant-%d\"}",
                            ts, v, i % 3);
                    producer.send(new ProducerRecord<>(topic, name(i).getBytes(StandardCharsets.UTF_8),
                            json.getBytes(StandardCharsets.UTF_8)));
                }
                step++;
                Thread.sleep(tick.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!stopped) {
                System.err.println("carousel: the demo generator stopped: " + e.getMessage());
            }
        }
    }

    void stop() {
        stopped = true;
    }

    void close() {
        stop();
        producer.close(Duration.ofSeconds(5));
    }
}
