"""Brazil as the generator knows it: states, their CEP ranges, cities, and accents.

Shares are the real dataset's (customers: per order; sellers: per seller). City names
are written as Olist's customer file writes them, lowercase without accents; ``accented``
gives the spelling with accents that geolocation rows and sellers sometimes use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    code: str
    customers: int  # real customers (orders) in this state
    sellers: int  # real sellers in this state
    zip_ranges: tuple[tuple[int, int], ...]  # inclusive five-digit CEP prefix ranges
    lat: float  # its capital (or largest city)
    lng: float
    spread: float  # degrees: how far its other towns lie from the capital
    cities: tuple[str, ...]  # the capital or largest city first


# One state per paragraph: clearer than one value per line.
# fmt: off
STATES: tuple[State, ...] = (
    State("SP", 41746, 1849, ((1000, 19999),), -23.55, -46.63, 1.2, (
        "sao paulo", "campinas", "guarulhos", "sao bernardo do campo", "santo andre", "osasco",
        "sorocaba", "ribeirao preto", "santos", "sao jose dos campos", "jundiai", "piracicaba",
        "bauru", "sao jose do rio preto", "mogi das cruzes", "franca", "taubate", "limeira",
        "barueri", "maua", "diadema", "carapicuiba", "suzano", "indaiatuba", "americana",
        "araraquara", "marilia", "presidente prudente", "sao carlos", "cotia", "praia grande",
        "sao vicente", "guaruja", "jacarei", "itu", "braganca paulista", "atibaia", "valinhos",
        "sumare", "hortolandia", "ibitinga", "votuporanga", "aracatuba", "botucatu", "jau",
        "sao caetano do sul", "taboao da serra", "embu das artes", "itapevi",
        "santana de parnaiba",
    )),
    State("RJ", 12852, 171, ((20000, 28999),), -22.91, -43.17, 0.6, (
        "rio de janeiro", "niteroi", "sao goncalo", "duque de caxias", "nova iguacu",
        "petropolis", "volta redonda", "campos dos goytacazes", "macae", "cabo frio",
        "teresopolis", "nova friburgo", "angra dos reis", "resende", "barra mansa", "itaborai",
        "marica", "belford roxo", "sao joao de meriti",
    )),
    State("MG", 11635, 244, ((30000, 39999),), -19.92, -43.94, 1.6, (
        "belo horizonte", "uberlandia", "contagem", "juiz de fora", "betim", "montes claros",
        "ribeirao das neves", "uberaba", "governador valadares", "ipatinga", "sete lagoas",
        "divinopolis", "pocos de caldas", "pouso alegre", "varginha", "lavras", "itajuba",
        "patos de minas", "teofilo otoni", "barbacena", "conselheiro lafaiete", "nova lima",
    )),
    State("RS", 5466, 129, ((90000, 99999),), -30.03, -51.23, 1.2, (
        "porto alegre", "caxias do sul", "canoas", "pelotas", "santa maria", "gravatai",
        "novo hamburgo", "sao leopoldo", "passo fundo", "rio grande", "santa cruz do sul",
        "bento goncalves", "erechim", "lajeado", "viamao",
    )),
    State("PR", 5045, 349, ((80000, 87999),), -25.43, -49.27, 1.1, (
        "curitiba", "londrina", "maringa", "ponta grossa", "cascavel", "sao jose dos pinhais",
        "foz do iguacu", "colombo", "guarapuava", "toledo", "apucarana", "arapongas",
        "umuarama", "campo mourao", "pinhais",
    )),
    State("SC", 3637, 190, ((88000, 89999),), -27.59, -48.55, 0.9, (
        "florianopolis", "joinville", "blumenau", "sao jose", "itajai", "chapeco", "criciuma",
        "palhoca", "jaragua do sul", "balneario camboriu", "lages", "brusque", "tubarao",
        "navegantes",
    )),
    State("BA", 3380, 19, ((40000, 48999),), -12.97, -38.5, 1.8, (
        "salvador", "feira de santana", "vitoria da conquista", "camacari", "itabuna",
        "juazeiro", "lauro de freitas", "ilheus", "jequie", "teixeira de freitas", "barreiras",
        "alagoinhas", "porto seguro",
    )),
    State("DF", 2140, 30, ((70000, 72799), (73000, 73699)), -15.79, -47.88, 0.15, (
        "brasilia", "taguatinga", "ceilandia", "aguas claras", "gama", "sobradinho", "guara",
        "samambaia", "planaltina", "brazlandia",
    )),
    State("ES", 2033, 23, ((29000, 29999),), -20.32, -40.34, 0.5, (
        "vitoria", "vila velha", "serra", "cariacica", "cachoeiro de itapemirim", "linhares",
        "colatina", "guarapari", "sao mateus", "aracruz",
    )),
    State("GO", 2020, 40, ((72800, 72999), (73700, 76799)), -16.68, -49.25, 1.2, (
        "goiania", "aparecida de goiania", "anapolis", "rio verde", "luziania",
        "aguas lindas de goias", "valparaiso de goias", "trindade", "formosa", "catalao",
        "itumbiara", "jatai",
    )),
    State("PE", 1652, 9, ((50000, 56999),), -8.05, -34.88, 1.0, (
        "recife", "jaboatao dos guararapes", "olinda", "caruaru", "petrolina", "paulista",
        "cabo de santo agostinho", "camaragibe", "garanhuns", "vitoria de santo antao",
    )),
    State("CE", 1336, 13, ((60000, 63999),), -3.73, -38.52, 1.0, (
        "fortaleza", "caucaia", "juazeiro do norte", "maracanau", "sobral", "crato",
        "itapipoca", "maranguape", "iguatu", "quixada",
    )),
    State("PA", 975, 1, ((66000, 68899),), -1.46, -48.49, 1.5, (
        "belem", "ananindeua", "santarem", "maraba", "castanhal", "parauapebas", "abaetetuba",
        "cameta", "braganca",
    )),
    State("MT", 907, 4, ((78000, 78899),), -15.6, -56.1, 1.5, (
        "cuiaba", "varzea grande", "rondonopolis", "sinop", "tangara da serra", "caceres",
        "sorriso", "lucas do rio verde", "primavera do leste", "barra do garcas",
    )),
    State("MA", 747, 1, ((65000, 65999),), -2.53, -44.3, 1.3, (
        "sao luis", "imperatriz", "sao jose de ribamar", "timon", "caxias", "codo",
        "paco do lumiar", "acailandia", "bacabal", "balsas",
    )),
    State("MS", 715, 5, ((79000, 79999),), -20.47, -54.62, 1.2, (
        "campo grande", "dourados", "tres lagoas", "corumba", "ponta pora", "navirai",
        "nova andradina", "aquidauana", "sidrolandia",
    )),
    State("PB", 536, 6, ((58000, 58999),), -7.12, -34.86, 0.8, (
        "joao pessoa", "campina grande", "santa rita", "patos", "bayeux", "sousa", "cabedelo",
        "cajazeiras", "guarabira",
    )),
    State("PI", 495, 1, ((64000, 64999),), -5.09, -42.8, 1.2, (
        "teresina", "parnaiba", "picos", "piripiri", "floriano", "campo maior", "barras",
    )),
    State("RN", 485, 5, ((59000, 59999),), -5.79, -35.21, 0.6, (
        "natal", "mossoro", "parnamirim", "sao goncalo do amarante", "macaiba", "ceara-mirim",
        "caico", "assu",
    )),
    State("AL", 413, 0, ((57000, 57999),), -9.67, -35.74, 0.5, (
        "maceio", "arapiraca", "rio largo", "palmeira dos indios", "uniao dos palmares",
        "penedo", "sao miguel dos campos",
    )),
    State("SE", 350, 2, ((49000, 49999),), -10.91, -37.07, 0.4, (
        "aracaju", "nossa senhora do socorro", "lagarto", "itabaiana", "sao cristovao",
        "estancia", "tobias barreto",
    )),
    State("TO", 280, 0, ((77000, 77999),), -10.18, -48.33, 1.2, (
        "palmas", "araguaina", "gurupi", "porto nacional", "paraiso do tocantins",
        "colinas do tocantins",
    )),
    State("RO", 253, 2, ((76800, 76999),), -8.76, -63.9, 1.2, (
        "porto velho", "ji-parana", "ariquemes", "vilhena", "cacoal", "rolim de moura", "jaru",
    )),
    State("AM", 148, 1, ((69000, 69299), (69400, 69899)), -3.12, -60.02, 1.0, (
        "manaus", "parintins", "itacoatiara", "manacapuru", "coari", "tefe",
    )),
    State("AC", 81, 1, ((69900, 69999),), -9.97, -67.81, 1.0, (
        "rio branco", "cruzeiro do sul", "sena madureira", "tarauaca", "feijo",
    )),
    State("AP", 68, 0, ((68900, 68999),), 0.03, -51.07, 0.6, (
        "macapa", "santana", "laranjal do jari", "oiapoque",
    )),
    State("RR", 46, 0, ((69300, 69399),), 2.82, -60.67, 0.6, (
        "boa vista", "rorainopolis", "caracarai", "pacaraima",
    )),
)
# fmt: on

# Word-by-word spellings with accents; a city whose words are all absent has none.
ACCENTS: dict[str, str] = {
    "sao": "são", "jose": "josé", "joao": "joão", "goncalo": "gonçalo", "niteroi": "niterói",
    "petropolis": "petrópolis", "iguacu": "iguaçu", "marica": "maricá", "itaborai": "itaboraí",
    "uberlandia": "uberlândia", "divinopolis": "divinópolis", "pocos": "poços",
    "itajuba": "itajubá", "teofilo": "teófilo", "goncalves": "gonçalves", "viamao": "viamão",
    "maringa": "maringá", "florianopolis": "florianópolis", "itajai": "itajaí",
    "chapeco": "chapecó", "criciuma": "criciúma", "palhoca": "palhoça", "jaragua": "jaraguá",
    "balneario": "balneário", "camboriu": "camboriú", "tubarao": "tubarão",
    "camacari": "camaçari", "ilheus": "ilhéus", "jequie": "jequié", "brasilia": "brasília",
    "ceilandia": "ceilândia", "aguas": "águas", "guara": "guará", "brazlandia": "brazlândia",
    "vitoria": "vitória", "goiania": "goiânia", "anapolis": "anápolis", "luziania": "luziânia",
    "goias": "goiás", "catalao": "catalão", "jatai": "jataí", "jaboatao": "jaboatão",
    "antao": "antão", "maracanau": "maracanaú", "quixada": "quixadá", "belem": "belém",
    "santarem": "santarém", "maraba": "marabá", "cameta": "cametá", "braganca": "bragança",
    "cuiaba": "cuiabá", "varzea": "várzea", "rondonopolis": "rondonópolis",
    "tangara": "tangará", "caceres": "cáceres", "garcas": "garças", "luis": "luís",
    "codo": "codó", "paco": "paço", "acailandia": "açailândia", "tres": "três",
    "corumba": "corumbá", "pora": "porã", "navirai": "naviraí", "sidrolandia": "sidrolândia",
    "parnaiba": "parnaíba", "mossoro": "mossoró", "macaiba": "macaíba", "caico": "caicó",
    "maceio": "maceió", "indios": "índios", "uniao": "união", "cristovao": "cristóvão",
    "estancia": "estância", "araguaina": "araguaína", "paraiso": "paraíso",
    "ji-parana": "ji-paraná", "tefe": "tefé", "tarauaca": "tarauacá", "feijo": "feijó",
    "macapa": "macapá", "rorainopolis": "rorainópolis", "caracarai": "caracaraí",
    "taubate": "taubaté", "maua": "mauá", "carapicuiba": "carapicuíba", "marilia": "marília",
    "guaruja": "guarujá", "jacarei": "jacareí", "aracatuba": "araçatuba", "jau": "jaú",
    "taboao": "taboão", "ribeirao": "ribeirão", "jundiai": "jundiaí", "sumare": "sumaré",
    "hortolandia": "hortolândia", "macae": "macaé", "teresopolis": "teresópolis",
    "gravatai": "gravataí", "mourao": "mourão", "andre": "andré",
}  # fmt: skip


def accented(city: str) -> str:
    """The city's spelling with accents (the same string when it has none)."""
    return " ".join(ACCENTS.get(word, word) for word in city.split(" "))


@dataclass(frozen=True)
class City:
    state: int  # index into STATES
    name: str  # as the customer file spells it
    rank: int  # 0 for the state's first (largest) city


CITIES: tuple[City, ...] = tuple(
    City(s, name, rank) for s, state in enumerate(STATES) for rank, name in enumerate(state.cities)
)
