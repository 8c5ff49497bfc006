using System;
using System.Collections.Generic;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

/// <summary>
/// The native core folds case itself; this checks it against .NET's own
/// StringComparer.OrdinalIgnoreCase for every character of the Basic
/// Multilingual Plane and its upper/lower-case partners.
/// </summary>
public class CaseFoldingTests
{
    [Fact]
    public void Native_case_folding_agrees_with_OrdinalIgnoreCase_for_every_BMP_character()
    {
        using var t = new SyncTable();
        var mismatches = new List<string>();
        for (int code = 0; code <= 0xFFFF; code++)
        {
            if (code is >= 0xD800 and <= 0xDFFF) continue; // lone surrogates cannot be keys
            string key = ((char)code).ToString();
            t.Clear();
            t[key] = 1;
            foreach (var other in new[] { char.ToUpperInvariant((char)code), char.ToLowerInvariant((char)code) })
            {
                if (other is >= '\uD800' and <= '\uDFFF') continue;
                string variant = other.ToString();
                bool expected = StringComparer.OrdinalIgnoreCase.Equals(key, variant);
                if (t.ContainsKey(variant) != expected)
                    mismatches.Add($"U+{code:X4} vs U+{(int)other:X4}: .NET says {expected}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches, e.g. {string.Join("; ", mismatches.GetRange(0, Math.Min(10, mismatches.Count)))}");
    }

    [Theory]
    [InlineData("Straße", "STRASSE")]
    [InlineData("ǅ", "ǆ")]
    [InlineData("ı", "I")]
    [InlineData("K", "\u212A")] // Kelvin sign
    [InlineData("\U00010400", "\U00010428")] // Deseret, outside the BMP
    [InlineData("\u1F80", "\u1F88")]
    public void Selected_pairs_match_dotnet(string a, string b)
    {
        using var t = new SyncTable();
        t[a] = 1;
        Assert.Equal(StringComparer.OrdinalIgnoreCase.Equals(a, b), t.ContainsKey(b));
    }
}
