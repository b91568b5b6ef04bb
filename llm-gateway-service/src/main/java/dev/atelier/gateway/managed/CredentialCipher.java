package dev.atelier.gateway.managed;

import dev.atelier.gateway.config.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts provider credentials at rest with AES-256-GCM: a fresh 96-bit random nonce per value, a
 * 128-bit tag, and the provider name as associated data. The key comes from {@code
 * GATEWAY_ENCRYPTION_KEY} (base64 of 32 bytes); without it the gateway refuses to store
 * credentials. A malformed key stops start-up rather than failing later.
 */
@ApplicationScoped
public class CredentialCipher {

  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecureRandom random = new SecureRandom();
  private final Optional<SecretKey> key;

  CredentialCipher(GatewayConfig config) {
    this.key = config.encryptionKey().filter(k -> !k.isBlank()).map(CredentialCipher::parse);
  }

  private static SecretKey parse(String base64) {
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(base64.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("GATEWAY_ENCRYPTION_KEY is not valid base64");
    }
    if (raw.length != 32) {
      throw new IllegalStateException(
          "GATEWAY_ENCRYPTION_KEY must be 32 bytes (base64), not " + raw.length);
    }
    return new SecretKeySpec(raw, "AES");
  }

  /** True when credentials can be stored. */
  public boolean available() {
    return key.isPresent();
  }

  /** nonce || ciphertext+tag. */
  public byte[] encrypt(String plaintext, String providerName) {
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      random.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key.orElseThrow(), new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(providerName.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = c.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[NONCE_BYTES + sealed.length];
      System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("credential encryption failed", e);
    }
  }

  /**
   * @throws IllegalStateException when the value was not sealed with this key for this provider
   */
  public String decrypt(byte[] sealed, String providerName) {
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.DECRYPT_MODE,
          key.orElseThrow(() -> new IllegalStateException("GATEWAY_ENCRYPTION_KEY is not set")),
          new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
      c.updateAAD(providerName.getBytes(StandardCharsets.UTF_8));
      byte[] plain = c.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
      return new String(plain, StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      // No detail: the message must not help anyone probe the key.
      throw new IllegalStateException(
          "credential of provider " + providerName + " cannot be decrypted");
    }
  }
}
