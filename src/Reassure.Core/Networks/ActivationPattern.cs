using System.Collections;
using System.Security.Cryptography;

namespace Reassure.Networks;

/// <summary>
/// The activation pattern s of an input: one bit per hidden neuron, s_{l,j} = [z_{l,j}(x) >= 0]
/// (method.md §1). Neurons exactly at 0 count as active, so the region is closed. A network with max pools adds the
/// winner of every window (<see cref="Winners"/>, method.md §12): the pattern then fixes the selection as well.
/// </summary>
public sealed class ActivationPattern : IEquatable<ActivationPattern>
{
    private readonly ulong[] _bits;
    private readonly int _hash;

    private ActivationPattern(ulong[] bits, int count, PoolLayout? pools = null, int[]? winners = null)
    {
        _bits = bits;
        Count = count;
        Pools = pools;
        Winners = winners;
        var h = new HashCode();
        foreach (var b in bits) h.Add(b);
        h.Add(count);
        if (winners is not null) foreach (var w in winners) h.Add(w);
        _hash = h.ToHashCode();
    }

    /// <summary>The max pools the winners refer to, or null (no max pool).</summary>
    public PoolLayout? Pools { get; }

    /// <summary>
    /// Per window of <see cref="Pools"/>: the flat hidden index of its winner (the largest pre-activation, lowest index
    /// on ties), or null for a network without max pools. Treat as read-only.
    /// </summary>
    public int[]? Winners { get; }

    /// <summary>This pattern with the winners of <paramref name="pools"/>' windows (<c>[windows]</c>, flat hidden indices).</summary>
    public ActivationPattern WithWinners(PoolLayout pools, int[] winners)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(winners);
        if (winners.Length != pools.WindowCount) throw new ArgumentException($"Expected {pools.WindowCount} winners, got {winners.Length}.", nameof(winners));
        for (int o = 0; o < winners.Length; o++)
            if (!pools.Window(o).Contains(winners[o])) throw new ArgumentException($"Winner {winners[o]} is not in window {o}.", nameof(winners));
        return new ActivationPattern(_bits, Count, pools, winners);
    }

    /// <summary>
    /// The winner rows of the region (method.md §12): per window whose winner w is active, (k, w) for every other active
    /// entry k (z_k &lt;= z_w); rows with an inactive entry are implied by the signs. Window order, then entry order.
    /// </summary>
    public (int Other, int Winner)[] WinnerPairs()
    {
        if (Pools is null || Winners is null) return [];
        var pairs = new List<(int, int)>();
        for (int o = 0; o < Winners.Length; o++)
        {
            int w = Winners[o];
            if (!this[w]) continue;
            foreach (int k in Pools.Window(o)) if (k != w && this[k]) pairs.Add((k, w));
        }
        return pairs.ToArray();
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
        return new ActivationPattern(bits, Count, Pools, Winners);
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
        var bytes = new byte[_bits.Length * 8 + (Winners?.Length ?? 0) * 4];
        Buffer.BlockCopy(_bits, 0, bytes, 0, _bits.Length * 8);
        if (Winners is not null) Buffer.BlockCopy(Winners, 0, bytes, _bits.Length * 8, Winners.Length * 4);
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    /// <inheritdoc />
    public bool Equals(ActivationPattern? other) =>
        other is not null && other.Count == Count && _bits.AsSpan().SequenceEqual(other._bits)
        && (Winners is null ? other.Winners is null : other.Winners is not null && Winners.AsSpan().SequenceEqual(other.Winners));

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
