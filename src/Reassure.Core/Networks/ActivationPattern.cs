using System.Collections;
using System.Security.Cryptography;

namespace Reassure.Networks;

/// <summary>
/// The activation pattern s of an input: one bit per hidden neuron, s_{l,j} = [z_{l,j}(x) >= 0]
/// (method.md §1). Neurons exactly at 0 count as active, so the region is closed.
/// </summary>
public sealed class ActivationPattern : IEquatable<ActivationPattern>
{
    private readonly ulong[] _bits;
    private readonly int _hash;

    private ActivationPattern(ulong[] bits, int count)
    {
        _bits = bits;
        Count = count;
        var h = new HashCode();
        foreach (var b in bits) h.Add(b);
        h.Add(count);
        _hash = h.ToHashCode();
    }

    /// <summary>Number of neurons.</summary>
    public int Count { get; }

    /// <summary>Whether neuron j (flat hidden index) is active.</summary>
    public bool this[int j] => (_bits[j >> 6] & (1UL << (j & 63))) != 0;

    /// <summary>Number of active neurons.</summary>
    public int ActiveCount => _bits.Sum(b => BitOperations.PopCount(b));

    /// <summary>The pattern of flat pre-activations.</summary>
    public static ActivationPattern FromPreActivations(ReadOnlySpan<double> z)
    {
        var bits = new ulong[(z.Length + 63) / 64];
        for (int j = 0; j < z.Length; j++)
            if (z[j] >= 0) bits[j >> 6] |= 1UL << (j & 63);
        return new ActivationPattern(bits, z.Length);
    }

    /// <summary>A pattern from explicit bits.</summary>
    public static ActivationPattern FromBits(IReadOnlyList<bool> active)
    {
        var bits = new ulong[(active.Count + 63) / 64];
        for (int j = 0; j < active.Count; j++)
            if (active[j]) bits[j >> 6] |= 1UL << (j & 63);
        return new ActivationPattern(bits, active.Count);
    }

    /// <summary>The pattern with neuron j flipped.</summary>
    public ActivationPattern Flip(int j)
    {
        var bits = (ulong[])_bits.Clone();
        bits[j >> 6] ^= 1UL << (j & 63);
        return new ActivationPattern(bits, Count);
    }

    /// <summary>Number of neurons on which two patterns differ.</summary>
    public int HammingDistance(ActivationPattern other)
    {
        int d = 0;
        for (int i = 0; i < _bits.Length; i++) d += BitOperations.PopCount(_bits[i] ^ other._bits[i]);
        return d;
    }

    /// <summary>A stable hex hash of the pattern (first 16 hex digits of SHA-256 of its bits).</summary>
    public string Hash()
    {
        var bytes = new byte[_bits.Length * 8];
        Buffer.BlockCopy(_bits, 0, bytes, 0, bytes.Length);
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    /// <inheritdoc />
    public bool Equals(ActivationPattern? other) =>
        other is not null && other.Count == Count && _bits.AsSpan().SequenceEqual(other._bits);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ActivationPattern);

    /// <inheritdoc />
    public override int GetHashCode() => _hash;

    /// <inheritdoc />
    public override string ToString() => $"{Hash()} ({ActiveCount}/{Count} active)";
}

file static class BitOperations
{
    public static int PopCount(ulong v) => System.Numerics.BitOperations.PopCount(v);
}
