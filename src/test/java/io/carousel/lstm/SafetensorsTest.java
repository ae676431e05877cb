package io.carousel.lstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    private final LstmShape shape = new LstmShape(3, 5, 2, 2);

    @Test
    void shouldRoundTripFloat64ExactlyAndFloat32ToFloatPrecision() {
        LstmModel m = LstmModel.init(shape, 4);
        m.putMetadata("model.version", "7");
        Path f64 = dir.resolve("m64.safetensors");
        Safetensors.write(f64, m, true);
        LstmModel back = Safetensors.read(f64);
        assertEquals(m, back);
        assertEquals("7", back.metadata().get("model.version"));
        assertFalse(back.metadata().containsKey(Safetensors.HIDDEN_SIZE), "shape keys become the shape, not metadata");

        Path f32 = dir.resolve("m32.safetensors");
        Safetensors.write(f32, m, false);
        LstmModel rounded = m.copy();
        rounded.roundToFloat();
        assertEquals(rounded, Safetensors.read(f32));
    }

    @Test
    void shouldWriteAHeaderOthersCanRead() throws Exception {
        Path f = dir.resolve("m.safetensors");
        Safetensors.write(f, LstmModel.init(shape, 1), false);
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8, "header padded to 8 bytes");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[20,3],\"data_offsets\":[0,240]}"), header);
        assertTrue(header.contains("\"__metadata__\":{"), header);
        assertTrue(header.contains("\"hidden_size\":\"5\""), header);
        assertEquals(8 + n + 4L * LstmModel.init(shape, 1).parameterCount(), bytes.length);
    }

    @Test
    void shouldInferTheShapeWhenTheFileHasNoMetadata() {
        LstmModel m = LstmModel.init(shape, 2);
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (ParamLayout.Tensor t : m.layout().tensors()) {
            tensors.put(t.name(), new Safetensors.Tensor("F64", t.dims(),
                    Arrays.copyOfRange(m.params(), t.offset(), t.offset() + t.size())));
        }
        Path f = dir.resolve("bare.safetensors");
        Safetensors.writeTensors(f, tensors, Map.of());
        assertEquals(m, Safetensors.read(f));
    }

    @Test
    void shouldNameWhatIsWrongWithABadFile() throws Exception {
        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, LstmModel.init(shape, 3), false);
        byte[] bytes = Files.readAllBytes(good);

        assertMessage(write("short", Arrays.copyOf(bytes, 5)), "shorter than its 8-byte header length");
        assertMessage(write("trunc", Arrays.copyOf(bytes, bytes.length - 10)), "truncated");
        assertMessage(write("huge-header", withHeaderLength(bytes, 1L << 40)), "does not fit");
        assertMessage(write("text", "hello world, not a model".getBytes(StandardCharsets.UTF_8)), "does not fit");
        assertMessage(dir.resolve("missing.safetensors"), "no such file");

        String header = headerOf(bytes);
        assertMessage(rewrite("badjson", bytes, header.replaceFirst("\\{", "[")), "malformed JSON");
        assertMessage(rewrite("dtype", bytes, header.replace("\"dtype\":\"F32\",\"shape\":[20,3]",
                "\"dtype\":\"I64\",\"shape\":[20,3]")), "dtype I64");
        assertMessage(rewrite("shape", bytes, header.replace("\"shape\":[20,3]", "\"shape\":[20,2]")),
                "needs 160 bytes, data_offsets give 240");
        assertMessage(rewrite("meta", bytes, header.replace("\"hidden_size\":\"5\"", "\"hidden_size\":\"6\"")),
                "metadata says");
        assertMessage(rewrite("missing-tensor", bytes, header.replace("\"bias_hh_l1\"", "\"bias_xx_l1\"")),
                "missing tensor bias_hh_l1");
    }

    @Test
    void shouldRefuseNonFiniteWeights() throws Exception {
        LstmModel m = LstmModel.init(shape, 3);
        m.params()[7] = Double.NaN;
        Path f = dir.resolve("nan.safetensors");
        Safetensors.write(f, m, false);
        assertMessage(f, "non-finite");
    }

    private void assertMessage(Path file, String expected) {
        Safetensors.FormatException e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name + ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    private static String headerOf(byte[] bytes) {
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    }

    /** Same data, a new header (length adjusted). */
    private Path rewrite(String name, byte[] bytes, String header) throws Exception {
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + bytes.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(bytes, 8 + (int) n, bytes.length - 8 - (int) n);
        return write(name, out.array());
    }

    private static byte[] withHeaderLength(byte[] bytes, long n) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
        return copy;
    }
}
