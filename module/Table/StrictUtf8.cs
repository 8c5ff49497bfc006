using System;
using System.Buffers;
using System.Runtime.CompilerServices;
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
        // Keys and short values are nearly always short ASCII: copied char by
        // char, which for a few chars beats even the vectorized converter
        // (whose setup cost more than the whole copy); longer ASCII text
        // takes the vectorized copy; anything else the full encoder.
        if (text.Length <= ShortText && text.Length <= scratch.Length && TryCopyShortAscii(text, scratch))
            return scratch[..text.Length];
        if (text.Length <= scratch.Length && Ascii.FromUtf16(text, scratch, out int written) == OperationStatus.Done)
            return scratch[..written];
        return EncodeGeneral(text, scratch, what);
    }

    /// <summary>Longest text <see cref="TryCopyShortAscii"/> handles.</summary>
    private const int ShortText = 32;

    /// <summary>Copies <paramref name="text"/> into <paramref name="scratch"/> if every char is ASCII (one byte each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryCopyShortAscii(string text, Span<byte> scratch)
    {
        ref char source = ref Unsafe.AsRef(in text.GetPinnableReference());
        ref byte target = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
        for (int i = 0; i < text.Length; i++)
        {
            // SAFETY: i < text.Length <= scratch.Length (checked by the caller),
            // so both offsets stay inside the string and the span.
            char c = Unsafe.Add(ref source, i);
            if (c >= 0x80) return false;
            Unsafe.Add(ref target, i) = (byte)c;
        }
        return true;
    }

    private static ReadOnlySpan<byte> EncodeGeneral(string text, Span<byte> scratch, string what)
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
