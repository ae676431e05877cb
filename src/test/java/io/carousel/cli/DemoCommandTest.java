package io.carousel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo} as a new user starts it, as its own process: it prints the dashboard's address,
 * the generated sensors appear behind it, and SIGTERM stops it with exit 0.
 */
class DemoCommandTest {

    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    @Timeout(150)
    void demoPrintsTheDashboardsAddressAndServesTheGeneratedSensors() throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path out = dir.resolve("demo.out");
        Path err = dir.resolve("demo.err");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, Main.class.getName(), "demo", "--sensors", "4", "--tick", "50",
                "--set", "http.port=0", "--set", "embedded.dir=" + dir.resolve("kafka"),
                "--set", "state.dir=" + dir.resolve("state"))
                .directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            await(out, err, p, "demo ");
            String printed = await(out, err, p, "Kafka Streams is RUNNING");
            Matcher m = Pattern.compile("(?m)^dashboard    (http://127\\.0\\.0\\.1:\\d+/)$").matcher(printed);
            assertTrue(m.find(), printed);
            String url = m.group(1);
            assertTrue(printed.contains("demo         4 sensors"), printed);
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<title>Carousel</title>"));
            JsonNode keys = null;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url + "keys")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    keys = new ObjectMapper().readTree(r.body()).get("keys");
                    if (keys.size() == 4) {
                        break;
                    }
                }
                Thread.sleep(200);
            }
            assertEquals(List.of("flow-03", "humidity-02", "pressure-01", "temperature-00"),
                    List.of(keys.get(0).get("key").asText(), keys.get(1).get("key").asText(),
                            keys.get(2).get("key").asText(), keys.get(3).get("key").asText()));
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "demo did not stop on SIGTERM");
            assertEquals(0, p.exitValue(), Files.readString(out) + Files.readString(err));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static String await(Path out, Path err, Process p, String line) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String printed = "";
        while (System.nanoTime() < deadline) {
            printed = Files.readString(out);
            if (printed.lines().anyMatch(l -> l.startsWith(line))) {
                return printed;
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no line '" + line + "'; it printed:\n" + printed + "\nstderr:\n" + Files.readString(err));
    }
}
