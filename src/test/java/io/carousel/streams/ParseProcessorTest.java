package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/** {@link ParseProcessor} alone in a {@link MockProcessorContext}: good events go on by key, bad ones as dead letters. */
class ParseProcessorTest {

    private final MockProcessorContext<byte[], Routed> context = new MockProcessorContext<>();

    private ParseProcessor processor(Map<String, String> config) {
        ParseProcessor p = new ParseProcessor(StreamSettings.from(CarouselConfig.of(config)));
        p.init(context);
        context.setRecordMetadata("carousel.events", 3, 42);
        return p;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldForwardAGoodEventKeyedByItsSeriesKey() {
        processor(Map.of("events.key.field", "id")).process(new Record<>(null, utf8("{\"id\":\"s-1\",\"value\":2.5}"), 7L));
        Record<? extends byte[], ? extends Routed> out = context.forwarded().get(0).record();
        assertEquals("s-1", new String(out.key(), StandardCharsets.UTF_8));
        assertFalse(out.value().isRejected());
        assertEquals(2.5, out.value().event().features()[0]);
        assertEquals(7L, out.value().event().timestamp(), "no timestamp field: the record's time");
    }

    @Test
    void shouldRejectABadEventWithItsOriginalBytesReasonAndWhereItCameFrom() {
        byte[] bad = utf8("{\"value\": \"high\"}");
        processor(Map.of()).process(new Record<>(utf8("k"), bad, 7L));
        Record<? extends byte[], ? extends Routed> out = context.forwarded().get(0).record();
        assertTrue(out.value().isRejected());
        assertArrayEquals(bad, out.value().rejected());
        assertArrayEquals(utf8("k"), out.key(), "the original key is kept");
        assertEquals("NOT_NUMERIC", header(out, DeadLetters.REASON));
        assertEquals("carousel.events", header(out, DeadLetters.TOPIC));
        assertEquals("3", header(out, DeadLetters.PARTITION));
        assertEquals("42", header(out, DeadLetters.OFFSET));
    }

    @Test
    void shouldRejectANullValueAsEmpty() {
        processor(Map.of()).process(new Record<>(utf8("k"), null, 7L));
        Record<? extends byte[], ? extends Routed> out = context.forwarded().get(0).record();
        assertEquals("EMPTY_VALUE", header(out, DeadLetters.REASON));
        assertArrayEquals(new byte[0], out.value().rejected());
    }

    private static String header(Record<?, ?> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
