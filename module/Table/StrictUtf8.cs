using System;
using System.Text;

namespace SyncPool.Table;

/// <summary>
/// UTF-8 that refuses unpaired surrogates instead of replacing them with '?':
/// a silently altered key or value would be data loss.
/// </summary>
internal static class StrictUtf8
{
    private static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Encodes into <paramref name="scratch"/> when it is surely big enough
    /// (no allocation on the hot path), else into a new array.
    /// </summary>
    /// <param name="what">"key" or "value", for the error message and parameter name.</param>
    public static ReadOnlySpan<byte> Encode(string text, Span<byte> scratch, string what)
    {
        try
        {
            if (Encoding.GetMaxByteCount(text.Length) <= scratch.Length)
                return scratch[..Encoding.GetBytes(text, scratch)];
            return Encoding.GetBytes(text);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException($"The {what} contains an unpaired UTF-16 surrogate and cannot be stored as text.", what);
        }
    }
}
