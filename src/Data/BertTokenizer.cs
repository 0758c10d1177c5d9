using System.Globalization;
using System.Text;

namespace Engine.Data;

/// <summary>
/// BERT's uncased tokenizer: text lower-cased with accents removed, split on white space and around
/// punctuation (and CJK characters), then each word cut into the longest vocabulary pieces from the left
/// ("##" marks a piece inside a word; a word with no cut is [UNK]). Sentences become [CLS] … [SEP] ids.
/// </summary>
public sealed class BertTokenizer
{
    private readonly Dictionary<string, int> _ids;
    private readonly int _unknown, _cls, _sep, _pad;

    /// <summary>A tokenizer over <paramref name="vocabulary"/> (id = position), which must hold [UNK], [CLS], [SEP] and [PAD].</summary>
    public BertTokenizer(IReadOnlyList<string> vocabulary)
    {
        _ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++) _ids.TryAdd(vocabulary[i], i);
        int Special(string token) => _ids.TryGetValue(token, out int id) ? id : throw new DataException($"BertTokenizer: the vocabulary has no {token}");
        (_unknown, _cls, _sep, _pad) = (Special("[UNK]"), Special("[CLS]"), Special("[SEP]"), Special("[PAD]"));
    }

    /// <summary>The longest word the WordPiece step cuts; longer ones are [UNK] (BERT's 100).</summary>
    public int MaxWordLength { get; init; } = 100;

    /// <summary>The id of [PAD].</summary>
    public int PadId => _pad;

    /// <summary>[CLS], the pieces of <paramref name="text"/>, [SEP] (cut to <paramref name="maxTokens"/> with [SEP] kept last).</summary>
    public int[] Encode(string text, int maxTokens = 512)
    {
        if (maxTokens < 2) throw new DataException($"BertTokenizer: maxTokens {maxTokens} leaves no room for [CLS] and [SEP]");
        var ids = new List<int> { _cls };
        foreach (var word in Words(text))
        {
            ids.AddRange(Pieces(word));
            if (ids.Count >= maxTokens - 1) break;
        }
        if (ids.Count > maxTokens - 1) ids.RemoveRange(maxTokens - 1, ids.Count - (maxTokens - 1));
        ids.Add(_sep);
        return [.. ids];
    }

    /// <summary>
    /// Sentences as a padded batch: ids and attention mask (1 for tokens, 0 for padding), both [count, longest], int64.
    /// </summary>
    public (long[,] Ids, long[,] Mask) EncodeBatch(IReadOnlyList<string> texts, int maxTokens = 512)
    {
        var encoded = texts.Select(t => Encode(t, maxTokens)).ToList();
        int length = encoded.Count == 0 ? 0 : encoded.Max(e => e.Length);
        var ids = new long[encoded.Count, length];
        var mask = new long[encoded.Count, length];
        for (int i = 0; i < encoded.Count; i++)
            for (int j = 0; j < length; j++)
            {
                ids[i, j] = j < encoded[i].Length ? encoded[i][j] : _pad;
                mask[i, j] = j < encoded[i].Length ? 1 : 0;
            }
        return (ids, mask);
    }

    /// <summary>The basic step: lower case, accents removed, control characters dropped, split on spaces and around punctuation.</summary>
    private static IEnumerable<string> Words(string text)
    {
        var folded = new StringBuilder();
        foreach (char c in text.ToLowerInvariant().Normalize(NormalizationForm.FormD))
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category == UnicodeCategory.NonSpacingMark) continue;
            // where the runtime does not decompose (invariant globalization), Latin letters lose their marks by table
            char ch = c is >= '\u00C0' and <= '\u017F' && LatinBase[c - 0xC0] != '.' ? LatinBase[c - 0xC0] : c;
            if (ch == 0 || ch == 0xFFFD || (char.IsControl(ch) && !char.IsWhiteSpace(ch))) continue;
            if (IsPunctuation(ch) || IsCjk(ch)) folded.Append(' ').Append(ch).Append(' ');
            else folded.Append(char.IsWhiteSpace(ch) ? ' ' : ch);
        }
        return folded.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>U+00C0 to U+017F without their marks (Unicode's canonical decompositions; '.' where there is none).</summary>
    private const string LatinBase = "aaaaaa.ceeeeiiii.nooooo..uuuuy..aaaaaa.ceeeeiiii.nooooo..uuuuy.yaaaaaaccccccccdd..eeeeeeeeeegggggggghh..iiiiiiiii...jjkk.llllll....nnnnnn...oooooo..rrrrrrsssssssstttt..uuuuuuuuuuuuwwyyyzzzzzz.";

    /// <summary>ASCII symbols count as punctuation too (BERT's rule: "$" and "^" are split off).</summary>
    private static bool IsPunctuation(char ch) =>
        ch is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~' || char.IsPunctuation(ch);

    private static bool IsCjk(char ch) => ch is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF';

    /// <summary>The greedy longest-match-first WordPiece cut of one word.</summary>
    private IEnumerable<int> Pieces(string word)
    {
        if (word.Length > MaxWordLength) return [_unknown];
        var pieces = new List<int>();
        for (int start = 0; start < word.Length;)
        {
            int end = word.Length, found = -1;
            for (; end > start; end--)
            {
                string piece = start > 0 ? "##" + word[start..end] : word[start..end];
                if (_ids.TryGetValue(piece, out found)) break;
            }
            if (end == start) return [_unknown];
            pieces.Add(found);
            start = end;
        }
        return pieces;
    }
}
