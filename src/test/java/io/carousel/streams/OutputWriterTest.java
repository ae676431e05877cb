package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The output records, read back by a JSON parser: every field says exactly what the outcome
 * holds (doubles round-trip, NaN is null, keys with quotes, escapes and non-ASCII survive), the
 * enriched record keeps the original bytes, and one writer reused for many records writes each
 * exactly as a fresh one would.
 */
class OutputWriterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] KEYS = {"sensor-1", "q\"uote", "back\\slash", "new\nline", "tab\tand\u0001", "été", "😀 emoji"};

    @Test
    void shouldWriteEveryFieldOfOneTarget() throws Exception {
        check(StreamSettings.from(CarouselConfig.of(Map.of("forecast.horizon", "3"))), 1);
    }

    @Test
    void shouldWriteEveryFieldOfSeveralTargets() throws Exception {
        check(StreamSettings.from(CarouselConfig.of(Map.of("forecast.horizon", "1", "events.features", "/value,/load,/temp",
                "model.outputs", "2"))), 2);
    }

    private static void check(StreamSettings s, int outputs) throws Exception {
        OutputWriter reused = new OutputWriter(s);
        SplittableRandom r = new SplittableRandom(5);
        int steps = s.horizon();
        for (int i = 0; i < 300; i++) {
            Outcome o = outcome(r, i, outputs, steps);
            String key = KEYS[i % KEYS.length];
            String original = i % 3 == 0 ? "{}" : i % 3 == 1 ? "{\"value\": " + o.value[0] + "}" : "{ \"x\" : [1, {\"y\":2}] ,\"value\":1 }\n";
            ParsedEvent e = new ParsedEvent(key, o.timestamp, o.value, original.getBytes(StandardCharsets.UTF_8), null);
            byte[] enriched = reused.enriched(e, o);
            byte[] forecast = reused.forecast(key, o);
            byte[] anomaly = reused.anomaly(key, e, o);
            OutputWriter fresh = new OutputWriter(s);
            assertArrayEquals(fresh.enriched(e, o), enriched, "record " + i);
            assertArrayEquals(fresh.forecast(key, o), forecast, "record " + i);
            assertArrayEquals(fresh.anomaly(key, e, o), anomaly, "record " + i);

            int close = original.lastIndexOf('}');
            String text = new String(enriched, StandardCharsets.UTF_8);
            assertTrue(text.startsWith(original.substring(0, close)) && text.endsWith(original.substring(close)), text);
            JsonNode en = JSON.readTree(enriched);
            JsonNode c = en.get("carousel");
            assertNumber(o.forecast[0], c.get("forecast"));
            assertNumber(o.error[0], c.get("error"));
            assertNumber(o.score, c.get("anomalyScore"));
            assertEquals(o.anomaly, c.get("anomaly").booleanValue());
            assertNumber(o.nextForecast[0], c.get("nextForecast"));
            assertNumber(o.lower[0], c.get("lower"));
            assertNumber(o.upper[0], c.get("upper"));
            assertEquals(o.modelVersion, c.get("modelVersion").longValue());
            assertEquals(KeyState.sourceName(o.source), c.get("source").textValue());
            assertEquals(KeyState.sourceName(o.source), JSON.readTree(forecast).get("source").textValue());
            assertEquals(o.warm, c.get("warm").booleanValue());
            assertEquals(o.count, c.get("count").longValue());
            assertEquals(outputs > 1, c.has("targets"));
            for (int j = 0; outputs > 1 && j < outputs; j++) {
                JsonNode t = c.get("targets").get(j);
                assertEquals(s.features().get(j), t.get("feature").textValue());
                assertNumber(o.forecast[j], t.get("forecast"));
                assertNumber(o.error[j], t.get("error"));
                assertNumber(o.deviation[j], t.get("deviation"));
                assertNumber(o.nextForecast[j], t.get("nextForecast"));
                assertNumber(o.lower[j], t.get("lower"));
                assertNumber(o.upper[j], t.get("upper"));
            }

            JsonNode f = JSON.readTree(forecast);
            assertEquals(key, f.get("key").textValue());
            assertEquals(o.timestamp, f.get("timestamp").longValue());
            assertEquals(o.modelVersion, f.get("modelVersion").longValue());
            assertEquals(steps, f.get("horizon").size());
            for (int h = 0; h < steps; h++) {
                JsonNode step = f.get("horizon").get(h);
                double value = steps == 1 ? o.nextForecast[0] : o.horizon[h * outputs];
                double w = (o.upper[0] - o.lower[0]) / 2 * Math.sqrt(h + 1);
                assertEquals(h + 1, step.get("step").intValue());
                if (o.horizonTime[h] >= 0) {
                    assertEquals(o.horizonTime[h], step.get("timestamp").longValue());
                } else {
                    assertTrue(step.get("timestamp").isNull());
                }
                assertNumber(value, step.get("forecast"));
                boolean next = h == 0 && value == o.nextForecast[0];
                assertNumber(next ? o.lower[0] : value - w, step.get("lower"));
                assertNumber(next ? o.upper[0] : value + w, step.get("upper"));
                assertEquals(outputs > 1, step.has("values"));
                for (int j = 0; outputs > 1 && j < outputs; j++) {
                    assertNumber(steps == 1 ? o.nextForecast[j] : o.horizon[h * outputs + j], step.get("values").get(j));
                }
            }

            JsonNode a = JSON.readTree(anomaly);
            assertEquals(key, a.get("key").textValue());
            assertNumber(o.value[0], a.get("value"));
            assertNumber(o.forecast[0], a.get("expected"));
            assertNumber(s.threshold(), a.get("threshold"));
            assertEquals(outputs, a.get("deviations").size());
            double previous = Double.POSITIVE_INFINITY;
            for (JsonNode d : a.get("deviations")) {
                int j = s.features().indexOf(d.get("feature").textValue());
                assertNumber(o.deviation[j], d.get("deviation"));
                assertNumber(o.value[j], d.get("value"));
                assertTrue(Math.abs(o.deviation[j]) <= previous, "most deviating first");
                previous = Math.abs(o.deviation[j]);
            }
        }
    }

    @Test
    void shouldWriteEveryLongExactly() throws Exception {
        OutputWriter w = new OutputWriter(StreamSettings.from(CarouselConfig.of(Map.of())));
        java.util.List<Long> longs = new java.util.ArrayList<>(java.util.List.of(0L, 1L, 9L, 10L, 11L, 99L, 100L, 101L, 999L,
                1000L, -1L, -9L, -10L, -99L, -100L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, 1_700_000_000_000L));
        for (long p = 1; p > 0 && p < Long.MAX_VALUE / 10; p *= 10) {
            longs.addAll(java.util.List.of(p - 1, p, p + 1, -p));
        }
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 1000; i++) {
            longs.add(r.nextLong() >> r.nextInt(64));
        }
        for (long v : longs) {
            Outcome o = outcome(r, 1, 1, 1);
            o.timestamp = v;
            o.modelVersion = -v;
            JsonNode f = JSON.readTree(w.forecast("k", o));
            assertEquals(v, f.get("timestamp").longValue(), Long.toString(v));
            assertEquals(-v, f.get("modelVersion").longValue(), Long.toString(-v));
            assertEquals(Long.toString(v), f.get("timestamp").toString(), "as Long.toString writes it");
        }
    }

    private static void assertNumber(double want, JsonNode got) {
        if (Double.isFinite(want)) {
            assertTrue(got.isNumber(), got.toString());
            assertEquals(want, got.doubleValue(), 0.0);
        } else {
            assertTrue(got.isNull(), "NaN is written as null: " + got);
        }
    }

    private static Outcome outcome(SplittableRandom r, int i, int outputs, int steps) {
        Outcome o = new Outcome();
        o.clear(outputs, steps);
        o.timestamp = 1_700_000_000_000L + i * 60_000L;
        for (int j = 0; j < outputs; j++) {
            o.value[j] = r.nextInt(5) == 0 ? r.nextInt(100) : r.nextGaussian() * Math.pow(10, r.nextInt(-8, 12));
            o.forecast[j] = i % 7 == 0 ? Double.NaN : r.nextGaussian();
            o.error[j] = o.value[j] - o.forecast[j];
            o.deviation[j] = r.nextGaussian() * 3;
            o.nextForecast[j] = r.nextGaussian();
            o.lower[j] = o.nextForecast[j] - 1 / 3.0;
            o.upper[j] = o.nextForecast[j] + 1 / 3.0;
        }
        for (int h = 0; h < steps; h++) {
            for (int j = 0; j < outputs; j++) {
                // step 1 is the next forecast, as the roll-outs make it (not always, to cover both)
                o.horizon[h * outputs + j] = h == 0 && i % 2 == 0 ? o.nextForecast[j] : r.nextGaussian();
            }
            o.horizonTime[h] = h == 2 ? -1 : o.timestamp + (h + 1) * 60_000L;
        }
        o.score = i % 5 == 0 ? o.value[0] : r.nextDouble(); // sometimes a number the record has written already
        o.anomaly = o.score > 0.9;
        o.warm = r.nextBoolean();
        o.source = (byte) r.nextInt(KeyState.SMOOTHED + 1);
        o.modelVersion = i / 50;
        o.count = i + 1;
        return o;
    }
}
