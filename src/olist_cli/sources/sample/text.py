"""Portuguese review titles and messages, as customers write them.

A few thousand messages are composed from phrases once per run (commas, quotes, line
breaks and all) and pre-formatted as CSV cells; reviews then pick from them by index,
positive ones for good scores, complaints for bad ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample import cells

POSITIVE = (
    "Produto muito bom", "Chegou antes do prazo", "Recomendo", "Ótimo produto, recomendo",
    "Entrega rápida e produto de qualidade", "Adorei o produto", "Bem embalado",
    "Tudo certo, produto conforme descrito", "Excelente vendedor", "Gostei muito",
    "Muito satisfeita com a compra", "Produto de ótima qualidade", "Nota 10",
    "Superou minhas expectativas", "Recebi tudo certinho", "Lindo, igual à foto",
    "Comprarei novamente", "Parabéns à loja", "Entrega dentro do prazo", "Excelente",
    "10/10 recomendo", "5 estrelas para a loja lannister",
)  # fmt: skip
NEUTRAL = (
    "Produto ok", "Mais ou menos", "Poderia ser melhor", "Razoável", "Material simples",
    "O produto é bom, mas a entrega demorou", "Chegou com a caixa amassada",
    "A cor é diferente da foto", "Atendeu, mas não superou", "Demorou um pouco",
    'O tamanho "M" ficou pequeno',
)  # fmt: skip
NEGATIVE = (
    "Não recebi o produto", "Produto não entregue", "Péssimo", "Veio errado",
    "Produto com defeito", "Ainda não recebi", "Comprei 2 unidades e só chegou 1",
    "Quero meu dinheiro de volta", "Não recomendo", "Atrasou muito",
    "O produto veio quebrado", "Entrega atrasada e sem resposta da loja",
    "Veio faltando peças", "Péssima experiência", 'O produto veio "diferente" do anunciado',
    'Consta como "entregue" mas não chegou nada',
)  # fmt: skip
TITLES = (
    ("Recomendo", "Ótimo", "Muito bom", "Excelente", "Super recomendo", "Adorei",
     "Nota 10", "Perfeito", "Ótimo produto", "Bom", "10"),
    ("Ok", "Razoável", "Regular", "Mais ou menos", "Bom, mas atrasou"),
    ("Péssimo", "Não recebi", "Produto errado", "Decepcionado", "Ruim", "Não recomendo",
     "Atraso", "Cadê meu produto?"),
)  # fmt: skip
_SEPARATORS = (". ", ", ", " ", "\n", "!! ", " - ", ".\n")
MESSAGES_PER_MOOD = 1500


@dataclass(frozen=True)
class ReviewText:
    """Pre-formatted cells; index ``mood * size + k`` picks text k of a mood (0 good,
    1 middling, 2 bad); the last row of each pool is the empty (null) cell."""

    titles: cells.Cells
    messages: cells.Cells
    titles_per_mood: int
    messages_per_mood: int

    @property
    def null_title(self) -> int:
        return len(self.titles) - 1

    @property
    def null_message(self) -> int:
        return len(self.messages) - 1


def make_text(rng: np.random.Generator) -> ReviewText:
    messages: list[str | None] = []
    for phrases in (POSITIVE, NEUTRAL, NEGATIVE):
        for _ in range(MESSAGES_PER_MOOD):
            n = int(rng.integers(1, 4))
            picked = [phrases[int(i)] for i in rng.integers(0, len(phrases), n)]
            text = picked[0]
            for phrase in picked[1:]:
                text += _SEPARATORS[int(rng.integers(0, len(_SEPARATORS)))] + phrase.lower()
            if rng.random() < 0.3:
                text = text.lower()
            messages.append(text)
    size = max(len(t) for t in TITLES)
    titles: list[str | None] = []
    for mood in TITLES:
        titles += [mood[i % len(mood)] for i in range(size)]
    return ReviewText(
        titles=cells.text_pool([*titles, None]),
        messages=cells.text_pool([*messages, None]),
        titles_per_mood=size,
        messages_per_mood=MESSAGES_PER_MOOD,
    )
