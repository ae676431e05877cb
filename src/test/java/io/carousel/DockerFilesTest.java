package io.carousel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of docker/ without a Docker engine: the compose file parses and wires the
 * services in order, its Kafka image is the release Carousel's clients are, its environment is a
 * configuration Carousel accepts (pointing at the broker, not starting one), the topics it creates
 * are the configuration's, and the Dockerfile runs the built jar as a non-root user. Whether the
 * jar starts with that configuration against a real broker is {@code it.DockerComposeIT}'s.
 */
class DockerFilesTest {

    private static final Path COMPOSE = Path.of("docker/compose.yaml");
    private static final Path DOCKERFILE = Path.of("docker/Dockerfile");

    static JsonNode compose() throws Exception {
        return new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.toFile());
    }

    /** The carousel service's environment, with ${VAR:?message} interpolations given a value. */
    static Map<String, String> carouselEnvironment(JsonNode compose) {
        Map<String, String> env = new HashMap<>();
        compose.get("services").get("carousel").get("environment").fields()
                .forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText().replaceAll("\\$\\{[^}]*}", "a-token")));
        return env;
    }

    @Test
    void composeRunsTheBrokerThenTheTopicsThenCarousel() throws Exception {
        JsonNode services = compose().get("services");
        assertEquals(Set.of("kafka", "topics", "carousel"), fieldNames(services));
        assertEquals("service_healthy", services.get("topics").get("depends_on").get("kafka").get("condition").asText());
        assertEquals("service_completed_successfully",
                services.get("carousel").get("depends_on").get("topics").get("condition").asText());
        assertEquals("docker/Dockerfile", services.get("carousel").get("build").get("dockerfile").asText());
        java.util.Properties kafka = new java.util.Properties();
        try (var in = org.apache.kafka.clients.producer.KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            kafka.load(in);
        }
        String image = "apache/kafka:" + kafka.getProperty("version");
        assertEquals(image, services.get("kafka").get("image").asText(), "the broker is the clients' release");
        assertEquals(image, services.get("topics").get("image").asText());
        assertEquals("broker,controller", services.get("kafka").get("environment").get("KAFKA_PROCESS_ROLES").asText());
    }

    @Test
    void composeEnvironmentIsAConfigurationCarouselAccepts() throws Exception {
        JsonNode compose = compose();
        CarouselConfig c = CarouselConfig.load(Path.of(CarouselConfig.DEFAULT_FILE), carouselEnvironment(compose), List.of());
        assertFalse(c.embedded(), "in compose Carousel uses the kafka service, it starts no broker");
        assertEquals("kafka:9092", c.bootstrapServers());
        assertEquals(compose.get("services").get("kafka").get("environment").get("KAFKA_ADVERTISED_LISTENERS").asText(),
                "PLAINTEXT://" + c.bootstrapServers());
        assertEquals("/app/data/state", c.streamsProperties(c.bootstrapServers()).get("state.dir"));
        assertEquals("0.0.0.0", c.httpHost());
        assertTrue(c.httpToken().isPresent(), "listening beyond loopback needs a token");

        // the topics service creates exactly the configuration's topics, the models topic compacted
        String script = compose.get("services").get("topics").get("command").get(0).asText();
        Set<String> created = new LinkedHashSet<>();
        Matcher loop = Pattern.compile("for t in ([^;]+);").matcher(script);
        assertTrue(loop.find(), script);
        created.addAll(List.of(loop.group(1).trim().split("\\s+")));
        Matcher models = Pattern.compile("--topic (carousel\\.models)[^\\n]*\\n?[^\\n]*cleanup\\.policy=compact").matcher(script);
        assertTrue(models.find(), "the models topic is created compacted: " + script);
        created.add(models.group(1));
        Set<String> expected = new LinkedHashSet<>(CarouselApp.topics(c).keySet());
        expected.add(c.topicModels());
        expected.add(c.topicControl());
        assertEquals(expected, created);
        assertTrue(script.contains("--partitions " + c.topicPartitions()), "partitions as configured: " + script);
    }

    @Test
    void dockerfileBuildsTheJarAndRunsItAsANonRootUser() throws Exception {
        List<String> lines = Files.readAllLines(DOCKERFILE).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        List<String> froms = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
        assertEquals(2, froms.size(), "a build stage and a runtime stage");
        assertTrue(froms.get(0).matches("FROM maven:\\S+ AS build"), froms.get(0));
        assertTrue(froms.get(1).matches("FROM eclipse-temurin:17-jre\\S*"), froms.get(1));
        int runtime = lines.indexOf(froms.get(1));
        List<String> last = lines.subList(runtime, lines.size());
        assertTrue(last.contains("COPY --from=build /src/target/carousel.jar /app/carousel.jar"), "the shaded jar of `package`");
        assertTrue(last.contains("COPY config /app/config"), "config/application.properties is the default --config");
        String user = last.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElse("USER root");
        assertFalse(user.equals("USER root") || user.equals("USER 0"), user);
        String entry = last.stream().filter(l -> l.startsWith("ENTRYPOINT ")).findFirst().orElse("");
        assertTrue(entry.contains("\"-jar\", \"/app/carousel.jar\""), entry);
        assertTrue(last.contains("CMD [\"run\"]"));
        assertTrue(Files.isRegularFile(Path.of("config/application.properties")));
    }

    private static Set<String> fieldNames(JsonNode n) {
        Set<String> s = new LinkedHashSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }
}
