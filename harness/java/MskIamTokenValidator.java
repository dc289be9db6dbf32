package kafkamigrate.harness;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;

/**
 * Accepts SASL/OAUTHBEARER tokens shaped like Amazon MSK's IAM tokens: the base64url text of a
 * SigV4-presigned URL for kafka-cluster:Connect on kafka.REGION.amazonaws.com, with every
 * query parameter MSK reads, for the configured region, not expired. The principal is the
 * access key id. The signature's value cannot be checked without AWS; its form is.
 * JAAS options: region (required), acceptedLog (optional: one line per token seen),
 * maxTokenAgeMs (optional: tokens signed longer ago are refused, as tokens signed with
 * temporary credentials that have expired are).
 */
public class MskIamTokenValidator implements AuthenticateCallbackHandler {
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private String region;
    private Path acceptedLog;
    private long maxTokenAgeMs = Long.MAX_VALUE;

    @Override
    public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {
        for (AppConfigurationEntry entry : entries) {
            Map<String, ?> options = entry.getOptions();
            if (options.get("region") != null) {
                region = options.get("region").toString();
            }
            if (options.get("maxTokenAgeMs") != null) {
                maxTokenAgeMs = Long.parseLong(options.get("maxTokenAgeMs").toString());
            }
            if (options.get("acceptedLog") != null) {
                acceptedLog = Path.of(options.get("acceptedLog").toString());
            }
        }
        if (region == null) {
            throw new IllegalArgumentException("MskIamTokenValidator needs a region option");
        }
    }

    @Override
    public void close() {
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerValidatorCallback v) {
                validate(v);
            } else if (callback instanceof OAuthBearerExtensionsValidatorCallback e) {
                e.inputExtensions().map().keySet().forEach(e::valid);
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    private void validate(OAuthBearerValidatorCallback callback) {
        String problem = problem(callback.tokenValue());
        if (problem != null) {
            callback.error("invalid_token", null, null);
            log("REJECTED " + problem);
            return;
        }
        Map<String, String> query = query(URI.create(decode(callback.tokenValue())));
        String accessKey = query.get("X-Amz-Credential").split("/")[0];
        long issued = LocalDateTime.parse(query.get("X-Amz-Date"), AMZ_DATE).toInstant(ZoneOffset.UTC).toEpochMilli();
        long expires = issued + 1000L * Long.parseLong(query.get("X-Amz-Expires"));
        String token = callback.tokenValue();
        callback.token(new OAuthBearerToken() {
            public String value() { return token; }
            public Set<String> scope() { return Set.of(); }
            public long lifetimeMs() { return expires; }
            public String principalName() { return accessKey; }
            public Long startTimeMs() { return issued; }
        });
        log("ACCEPTED " + accessKey + " " + query.get("X-Amz-Date"));
    }

    /** Why the token is not an MSK IAM token for this region, or null. */
    private String problem(String token) {
        String url = decode(token);
        if (url == null) {
            return "not base64url";
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return "not a URL";
        }
        if (!("kafka." + region + ".amazonaws.com").equals(uri.getHost())) {
            return "host " + uri.getHost();
        }
        Map<String, String> q = query(uri);
        for (String name : List.of("Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "User-Agent")) {
            if (!q.containsKey(name)) {
                return "no " + name;
            }
        }
        if (!"kafka-cluster:Connect".equals(q.get("Action"))) {
            return "action " + q.get("Action");
        }
        if (!"AWS4-HMAC-SHA256".equals(q.get("X-Amz-Algorithm"))) {
            return "algorithm " + q.get("X-Amz-Algorithm");
        }
        if (!"host".equals(q.get("X-Amz-SignedHeaders"))) {
            return "signed headers " + q.get("X-Amz-SignedHeaders");
        }
        if (!q.get("X-Amz-Signature").matches("[0-9a-f]{64}")) {
            return "signature form";
        }
        String[] scope = q.get("X-Amz-Credential").split("/");
        if (scope.length != 5 || !scope[2].equals(region) || !scope[3].equals("kafka-cluster")
                || !scope[4].equals("aws4_request") || !q.get("X-Amz-Date").startsWith(scope[1])) {
            return "credential scope " + q.get("X-Amz-Credential");
        }
        long issued;
        try {
            issued = LocalDateTime.parse(q.get("X-Amz-Date"), AMZ_DATE).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (RuntimeException e) {
            return "date " + q.get("X-Amz-Date");
        }
        long lifetime = 1000L * Long.parseLong(q.get("X-Amz-Expires"));
        long now = System.currentTimeMillis();
        if (lifetime <= 0 || lifetime > 900_000L || issued + lifetime < now) {
            return "expired or too long";
        }
        if (now - issued > maxTokenAgeMs) {
            return "expired: signed " + (now - issued) + " ms ago";
        }
        return null;
    }

    private static String decode(String token) {
        try {
            return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> out = new HashMap<>();
        String raw = uri.getRawQuery();
        if (raw == null) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            out.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return out;
    }

    private synchronized void log(String line) {
        if (acceptedLog == null) {
            return;
        }
        try {
            Files.writeString(acceptedLog, line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // The log is evidence for tests, not part of authentication.
        }
    }
}
