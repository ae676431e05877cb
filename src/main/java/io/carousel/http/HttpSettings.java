package io.carousel.http;

import io.carousel.config.CarouselConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * The HTTP surface's settings, checked once: the listen address, the token writes need, and the
 * host other instances reach this one at. A non-loopback listen address without a token is refused
 * unless {@code http.insecure=true}: anyone who can reach the port could otherwise roll back models
 * and rewrite thresholds.
 */
public record HttpSettings(String host, int port, Optional<String> token, boolean insecure, Optional<String> advertisedHost) {

    public static HttpSettings from(CarouselConfig c) {
        HttpSettings s = new HttpSettings(c.httpHost(), c.httpPort(), c.httpToken(), c.httpInsecure(), c.httpAdvertisedHost());
        s.check();
        return s;
    }

    void check() {
        if (token.isEmpty() && !insecure && !isLoopback(host)) {
            throw new IllegalArgumentException("config key http.host: " + host + " is not a loopback address;"
                    + " set http.token (writes then need 'Authorization: Bearer <token>'), or http.insecure=true"
                    + " to serve it without one");
        }
    }

    static boolean isLoopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("config key http.host: unknown host " + host);
        }
    }

    /** The host to advertise for {@code boundPort}: http.advertised-host, else http.host, else this machine's name for a wildcard. */
    public String advertised(int boundPort) {
        String h = advertisedHost.orElseGet(() -> {
            try {
                InetAddress a = InetAddress.getByName(host);
                return a.isAnyLocalAddress() ? InetAddress.getLocalHost().getHostName() : host;
            } catch (UnknownHostException e) {
                return host;
            }
        });
        return (h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h) + ":" + boundPort;
    }
}
