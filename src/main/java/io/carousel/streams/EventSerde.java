package io.carousel.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Parsed events through the repartition topic (only used when the key comes from a field): a
 * format byte, the key, the timestamp, the features and the original bytes.
 */
final class EventSerde {

    static final byte FORMAT = 1;

    private EventSerde() {}

    static Serde<Routed> serde() {
        Serializer<Routed> ser = (topic, r) -> r == null ? null : serialise(r.event());
        Deserializer<Routed> de = (topic, bytes) -> bytes == null ? null : Routed.of(deserialise(bytes));
        return Serdes.serdeFrom(ser, de);
    }

    static byte[] serialise(ParsedEvent e) {
        byte[] key = e.key().getBytes(StandardCharsets.UTF_8);
        byte[] group = e.group() == null ? null : e.group().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + key.length + 8 + 4 + 8 * e.features().length + 4 + e.original().length
                + 4 + (group == null ? 0 : group.length));
        b.put(FORMAT).putInt(key.length).put(key).putLong(e.timestamp()).putInt(e.features().length);
        for (double v : e.features()) {
            b.putDouble(v);
        }
        b.putInt(e.original().length).put(e.original());
        b.putInt(group == null ? -1 : group.length);
        if (group != null) {
            b.put(group);
        }
        return b.array();
    }

    static ParsedEvent deserialise(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.get() != FORMAT) {
            throw new IllegalArgumentException("unknown event format " + bytes[0]);
        }
        byte[] key = new byte[b.getInt()];
        b.get(key);
        long ts = b.getLong();
        double[] f = new double[b.getInt()];
        for (int i = 0; i < f.length; i++) {
            f[i] = b.getDouble();
        }
        byte[] original = new byte[b.getInt()];
        b.get(original);
        int groupLength = b.getInt();
        String group = null;
        if (groupLength >= 0) {
            byte[] g = new byte[groupLength];
            b.get(g);
            group = new String(g, StandardCharsets.UTF_8);
        }
        return new ParsedEvent(new String(key, StandardCharsets.UTF_8), ts, f, original, group);
    }
}
