package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** One writer makes every record of a stream thread: each must be exactly what a fresh writer makes. */
class OutputWriterTest {

    private final StreamSettings s = StreamSettings.from(CarouselConfig.of(Map.of("forecast.horizon", "3")));

    @Test
    void shouldWriteEachRecordAsAFreshWriterWould() throws Exception {
        OutputWriter reused = new OutputWriter(s);
        SplittableRandom r = new SplittableRandom(5);
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < 200; i++) {
            Outcome o = outcome(r, i);
            ParsedEvent e = new ParsedEvent("k" + i, o.timestamp, new double[] {o.value[0]},
                    ("{\"value\": " + o.value[0] + (i % 2 == 0 ? "}" : " , \"x\": [1] }\n")).getBytes(StandardCharsets.UTF_8), null);
            int kind = r.nextInt(3);
            byte[] got = switch (kind) {
                case 0 -> reused.enriched(e, o);
                case 1 -> reused.forecast(e.key(), o);
                default -> reused.anomaly(e.key(), e, o);
            };
            OutputWriter fresh = new OutputWriter(s);
            byte[] want = switch (kind) {
                case 0 -> fresh.enriched(e, o);
                case 1 -> fresh.forecast(e.key(), o);
                default -> fresh.anomaly(e.key(), e, o);
            };
            assertArrayEquals(want, got, "record " + i);
            assertEquals('{', (char) got[0], "a record starts with its object, nothing before it");
            json.readTree(got); // one whole JSON value
        }
    }

    private static Outcome outcome(SplittableRandom r, int i) {
        Outcome o = new Outcome();
        o.clear(1, 3);
        o.timestamp = 1_700_000_000_000L + i * 60_000L;
        o.value[0] = r.nextGaussian();
        o.forecast[0] = i == 0 ? Double.NaN : r.nextGaussian();
        o.error[0] = o.value[0] - o.forecast[0];
        o.nextForecast[0] = r.nextGaussian();
        o.lower[0] = o.nextForecast[0] - 1;
        o.upper[0] = o.nextForecast[0] + 1;
        for (int h = 0; h < 3; h++) {
            o.horizon[h] = r.nextGaussian();
            o.horizonTime[h] = h == 2 ? -1 : o.timestamp + (h + 1) * 60_000L;
        }
        o.score = r.nextDouble();
        o.anomaly = o.score > 0.9;
        o.fromModel = r.nextBoolean();
        o.modelVersion = i / 50;
        o.count = i + 1;
        return o;
    }
}
