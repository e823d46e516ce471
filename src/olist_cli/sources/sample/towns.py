"""The towns the generator knows, per state: real names, places and rough sizes.

One line per town: ``name; latitude; longitude; people (thousands, about 2018)`` and, for
a town that owns a known CEP range, ``; first-last`` prefix ranges. The name is spelt with
its accents, lowercase, as the geolocation file spells it when it keeps them; customers and
sellers write it without (``places.plain``). Coordinates are the town centre to about
0.1 degree. Within a state the towns without a range of their own share the state's other
prefixes in blocks, in the order listed (São Paulo's are listed by CEP region).
"""

from __future__ import annotations

# fmt: off
TOWNS: dict[str, str] = {
"SP": """
são paulo; -23.55; -46.63; 12176; 01000-05999 08000-08499
osasco; -23.53; -46.79; 697; 06000-06299
carapicuíba; -23.52; -46.84; 400; 06300-06399
barueri; -23.51; -46.88; 270; 06400-06499
santana de parnaíba; -23.44; -46.92; 136; 06500-06549
pirapora do bom jesus; -23.40; -46.99; 18; 06550-06599
jandira; -23.53; -46.90; 123; 06600-06649
itapevi; -23.55; -46.93; 232; 06650-06699
cotia; -23.60; -46.92; 244; 06700-06729
vargem grande paulista; -23.60; -47.03; 52; 06730-06749
taboão da serra; -23.63; -46.79; 285; 06750-06799
embu das artes; -23.65; -46.85; 270; 06800-06849
itapecerica da serra; -23.72; -46.85; 173; 06850-06899
embu-guaçu; -23.83; -46.81; 69; 06900-06949
juquitiba; -23.93; -47.07; 31; 06950-06999
guarulhos; -23.46; -46.53; 1365; 07000-07399
arujá; -23.40; -46.32; 89; 07400-07499
santa isabel; -23.32; -46.22; 57; 07500-07599
mairiporã; -23.32; -46.59; 98; 07600-07699
caieiras; -23.36; -46.74; 100; 07700-07749
cajamar; -23.36; -46.88; 76; 07750-07799
franco da rocha; -23.32; -46.73; 154; 07800-07899
francisco morato; -23.28; -46.74; 175; 07900-07999
ferraz de vasconcelos; -23.54; -46.37; 195; 08500-08549
poá; -23.53; -46.34; 117; 08550-08569
itaquaquecetuba; -23.49; -46.35; 370; 08570-08599
suzano; -23.54; -46.31; 294; 08600-08699
mogi das cruzes; -23.52; -46.19; 434; 08700-08899
guararema; -23.41; -46.04; 29; 08900-08939
biritiba-mirim; -23.57; -46.04; 32; 08940-08969
salesópolis; -23.53; -45.85; 17; 08970-08999
santo andré; -23.66; -46.53; 716; 09000-09299
mauá; -23.67; -46.46; 468; 09300-09399
ribeirão pires; -23.71; -46.41; 123; 09400-09449
rio grande da serra; -23.74; -46.40; 50; 09450-09499
são caetano do sul; -23.62; -46.55; 161; 09500-09599
são bernardo do campo; -23.69; -46.56; 833; 09600-09899
diadema; -23.69; -46.62; 420; 09900-09999
santos; -23.96; -46.33; 433
são vicente; -23.96; -46.39; 363
guarujá; -23.99; -46.26; 320
cubatão; -23.89; -46.43; 130
praia grande; -24.01; -46.40; 320
mongaguá; -24.09; -46.62; 55
itanhaém; -24.18; -46.79; 100
peruíbe; -24.32; -47.00; 68
bertioga; -23.85; -46.14; 62
são sebastião; -23.76; -45.41; 88
ilhabela; -23.78; -45.36; 34
caraguatatuba; -23.62; -45.41; 120
ubatuba; -23.43; -45.07; 89
registro; -24.49; -47.84; 56
iguape; -24.71; -47.56; 30
taubaté; -23.03; -45.56; 311
tremembé; -22.96; -45.55; 46
pindamonhangaba; -22.92; -45.46; 164
caçapava; -23.10; -45.71; 94
são josé dos campos; -23.18; -45.88; 713
jacareí; -23.31; -45.97; 231
aparecida; -22.85; -45.23; 36
guaratinguetá; -22.82; -45.19; 121
lorena; -22.73; -45.12; 88
cachoeira paulista; -22.67; -45.01; 32
cruzeiro; -22.58; -44.96; 82
campos do jordão; -22.74; -45.59; 52
bragança paulista; -22.95; -46.54; 166
atibaia; -23.12; -46.55; 142
piracaia; -23.05; -46.36; 27
campinas; -22.91; -47.06; 1194
valinhos; -22.97; -46.99; 128
vinhedo; -23.03; -46.98; 78
itatiba; -23.00; -46.84; 120
paulínia; -22.76; -47.15; 109
sumaré; -22.82; -47.27; 282
hortolândia; -22.86; -47.22; 230
nova odessa; -22.78; -47.30; 59
americana; -22.74; -47.33; 237
santa bárbara d'oeste; -22.75; -47.41; 193
monte mor; -22.95; -47.32; 58
jundiaí; -23.19; -46.88; 414
várzea paulista; -23.21; -46.83; 121
campo limpo paulista; -23.21; -46.78; 84
itupeva; -23.15; -47.06; 60
louveira; -23.09; -46.95; 48
cabreúva; -23.31; -47.13; 48
itu; -23.26; -47.30; 171
salto; -23.20; -47.29; 117
indaiatuba; -23.09; -47.22; 246
capivari; -23.00; -47.51; 55
rio das pedras; -22.84; -47.61; 34
piracicaba; -22.73; -47.65; 400
são pedro; -22.55; -47.91; 35
limeira; -22.56; -47.40; 303
iracemápolis; -22.58; -47.52; 23
cordeirópolis; -22.48; -47.46; 24
rio claro; -22.41; -47.56; 204
araras; -22.36; -47.38; 134
leme; -22.19; -47.39; 103
pirassununga; -21.99; -47.43; 76
porto ferreira; -21.85; -47.48; 55
descalvado; -21.90; -47.62; 33
santa rita do passa quatro; -21.71; -47.48; 27
são carlos; -22.02; -47.89; 249
cosmópolis; -22.65; -47.20; 70
artur nogueira; -22.57; -47.17; 54
engenheiro coelho; -22.49; -47.21; 20
holambra; -22.63; -47.05; 14
jaguariúna; -22.70; -46.99; 55
pedreira; -22.74; -46.90; 47
santo antônio de posse; -22.61; -46.92; 23
amparo; -22.70; -46.77; 71
serra negra; -22.61; -46.70; 28
socorro; -22.59; -46.53; 41
águas de lindóia; -22.48; -46.63; 18
itapira; -22.44; -46.82; 74
mogi mirim; -22.43; -46.96; 92
mogi guaçu; -22.37; -46.94; 151
conchal; -22.33; -47.17; 27
espírito santo do pinhal; -22.19; -46.75; 44
aguaí; -22.06; -46.98; 36
são joão da boa vista; -21.97; -46.80; 90
vargem grande do sul; -21.83; -46.89; 42
casa branca; -21.77; -47.09; 30
santa cruz das palmeiras; -21.83; -47.25; 32
tambaú; -21.71; -47.27; 23
são josé do rio pardo; -21.60; -46.89; 55
mococa; -21.47; -47.00; 68
ribeirão preto; -21.18; -47.81; 694
cravinhos; -21.34; -47.73; 35
serrana; -21.21; -47.60; 44
jardinópolis; -21.02; -47.76; 43
brodowski; -20.99; -47.66; 25
batatais; -20.89; -47.59; 62
sertãozinho; -21.14; -47.99; 124
pontal; -21.02; -48.04; 46
pitangueiras; -21.01; -48.22; 39
santa rosa de viterbo; -21.47; -47.36; 26
são simão; -21.48; -47.55; 15
franca; -20.54; -47.40; 350
patrocínio paulista; -20.64; -47.28; 14
pedregulho; -20.26; -47.48; 16
igarapava; -20.04; -47.75; 30
ituverava; -20.34; -47.78; 41
orlândia; -20.72; -47.89; 43
são joaquim da barra; -20.58; -47.86; 50
morro agudo; -20.73; -48.06; 32
guaíra; -20.32; -48.31; 40
barretos; -20.56; -48.57; 122
bebedouro; -20.95; -48.48; 77
jaboticabal; -21.25; -48.32; 76
monte alto; -21.26; -48.50; 50
taquaritinga; -21.41; -48.51; 57
guariba; -21.36; -48.23; 39
araraquara; -21.79; -48.18; 233
américo brasiliense; -21.73; -48.11; 40
matão; -21.60; -48.37; 82
itápolis; -21.60; -48.81; 42
tabatinga; -21.72; -48.69; 16
ibitinga; -21.76; -48.83; 60
borborema; -21.62; -49.07; 16
novo horizonte; -21.47; -49.22; 40
são josé do rio preto; -20.82; -49.38; 456
mirassol; -20.82; -49.52; 60
guapiaçu; -20.79; -49.22; 20
potirendaba; -21.04; -49.38; 17
josé bonifácio; -21.05; -49.69; 36
monte aprazível; -20.77; -49.72; 24
tanabi; -20.63; -49.65; 26
nova granada; -20.53; -49.31; 21
olímpia; -20.74; -48.91; 54
catanduva; -21.14; -48.97; 121
votuporanga; -20.42; -49.97; 94
fernandópolis; -20.28; -50.25; 69
jales; -20.27; -50.55; 49
santa fé do sul; -20.21; -50.93; 31
araçatuba; -21.21; -50.43; 195
birigui; -21.29; -50.34; 123
guararapes; -21.26; -50.64; 32
valparaíso; -21.23; -50.87; 25
mirandópolis; -21.13; -51.10; 29
andradina; -20.90; -51.38; 57
pereira barreto; -20.64; -51.11; 25
ilha solteira; -20.43; -51.34; 26
penápolis; -21.42; -50.08; 63
promissão; -21.54; -49.86; 40
lins; -21.68; -49.74; 77
cafelândia; -21.80; -49.61; 17
bauru; -22.31; -49.06; 374
agudos; -22.47; -48.99; 37
pederneiras; -22.35; -48.78; 46
lençóis paulista; -22.60; -48.80; 68
jaú; -22.30; -48.56; 149
barra bonita; -22.49; -48.56; 36
igaraçu do tietê; -22.51; -48.56; 24
dois córregos; -22.37; -48.38; 26
brotas; -22.28; -48.13; 23
bariri; -22.07; -48.74; 34
pirajuí; -21.99; -49.46; 24
marília; -22.21; -49.95; 238
vera cruz; -22.22; -49.82; 11
garça; -22.21; -49.66; 44
pompéia; -22.11; -50.17; 21
tupã; -21.93; -50.51; 65
osvaldo cruz; -21.80; -50.88; 32
lucélia; -21.72; -50.88; 21
adamantina; -21.69; -51.07; 35
junqueirópolis; -21.51; -51.43; 20
dracena; -21.48; -51.53; 46
panorama; -21.36; -51.86; 15
sorocaba; -23.50; -47.46; 671
votorantim; -23.55; -47.44; 120
araçoiaba da serra; -23.51; -47.61; 33
salto de pirapora; -23.65; -47.57; 45
piedade; -23.71; -47.43; 55
pilar do sul; -23.81; -47.72; 29
ibiúna; -23.66; -47.22; 79
são roque; -23.53; -47.14; 90
mairinque; -23.55; -47.18; 47
araçariguama; -23.44; -47.06; 21
porto feliz; -23.21; -47.52; 53
boituva; -23.28; -47.67; 60
tatuí; -23.36; -47.86; 120
cerquilho; -23.17; -47.74; 48
tietê; -23.10; -47.71; 42
laranjal paulista; -23.05; -47.84; 28
itapetininga; -23.59; -48.05; 162
angatuba; -23.49; -48.41; 25
capão bonito; -24.01; -48.35; 47
itapeva; -23.98; -48.88; 94
itararé; -24.11; -49.33; 50
apiaí; -24.51; -48.84; 25
botucatu; -22.89; -48.44; 146
são manuel; -22.73; -48.57; 41
avaré; -23.10; -48.93; 90
piraju; -23.19; -49.38; 30
santa cruz do rio pardo; -22.90; -49.63; 47
bernardino de campos; -23.01; -49.47; 11
presidente prudente; -22.12; -51.39; 227
álvares machado; -22.08; -51.47; 25
pirapozinho; -22.28; -51.50; 27
regente feijó; -22.22; -51.30; 20
martinópolis; -22.15; -51.17; 26
presidente bernardes; -22.01; -51.55; 14
santo anastácio; -21.98; -51.65; 21
presidente venceslau; -21.88; -51.84; 39
presidente epitácio; -21.76; -52.11; 44
mirante do paranapanema; -22.29; -51.91; 18
teodoro sampaio; -22.53; -52.17; 23
rancharia; -22.23; -50.89; 29
paraguaçu paulista; -22.41; -50.58; 45
assis; -22.66; -50.41; 104
cândido mota; -22.75; -50.39; 30
palmital; -22.79; -50.22; 22
chavantes; -23.04; -49.71; 12
ourinhos; -22.98; -49.87; 113
""",
"RJ": """
rio de janeiro; -22.91; -43.17; 6688; 20000-23799
niterói; -22.88; -43.10; 511; 24000-24399
são gonçalo; -22.83; -43.05; 1077; 24400-24799
duque de caxias; -22.79; -43.31; 914
nova iguaçu; -22.76; -43.45; 818
belford roxo; -22.76; -43.40; 508
são joão de meriti; -22.80; -43.37; 471
campos dos goytacazes; -21.75; -41.32; 503
petrópolis; -22.51; -43.18; 305
volta redonda; -22.52; -44.10; 273
macaé; -22.37; -41.79; 251
magé; -22.65; -43.04; 243
itaboraí; -22.74; -42.86; 238
cabo frio; -22.88; -42.02; 216
angra dos reis; -23.01; -44.32; 200
nova friburgo; -22.28; -42.53; 190
barra mansa; -22.54; -44.17; 183
teresópolis; -22.41; -42.97; 181
mesquita; -22.80; -43.46; 172
nilópolis; -22.81; -43.41; 162
maricá; -22.92; -42.82; 161
queimados; -22.72; -43.56; 150
rio das ostras; -22.53; -41.94; 145
itaguaí; -22.86; -43.78; 133
resende; -22.47; -44.45; 130
araruama; -22.87; -42.34; 130
japeri; -22.64; -43.65; 104
são pedro da aldeia; -22.84; -42.10; 104
itaperuna; -21.21; -41.89; 103
barra do piraí; -22.47; -43.83; 100
saquarema; -22.93; -42.51; 89
seropédica; -22.74; -43.71; 82
três rios; -22.12; -43.21; 81
valença; -22.25; -43.70; 76
guapimirim; -22.54; -42.98; 60
rio bonito; -22.71; -42.62; 60
paracambi; -22.61; -43.71; 52
paraty; -23.22; -44.71; 43
santo antônio de pádua; -21.54; -42.18; 42
são fidélis; -21.65; -41.75; 38
bom jesus do itabapoana; -21.13; -41.68; 37
vassouras; -22.40; -43.66; 36
""",
"MG": """
belo horizonte; -19.92; -43.94; 2501; 30000-31999
contagem; -19.93; -44.05; 659
betim; -19.97; -44.20; 432
ribeirão das neves; -19.77; -44.09; 331
santa luzia; -19.77; -43.85; 218
ibirité; -20.02; -44.06; 179
sabará; -19.89; -43.81; 136
vespasiano; -19.69; -43.92; 126
nova lima; -19.98; -43.85; 94
lagoa santa; -19.63; -43.89; 63
pedro leopoldo; -19.62; -44.04; 64
esmeraldas; -19.76; -44.31; 70
uberlândia; -18.92; -48.28; 683
juiz de fora; -21.76; -43.35; 564
montes claros; -16.73; -43.86; 404
uberaba; -19.75; -47.93; 330
governador valadares; -18.85; -41.95; 279
ipatinga; -19.47; -42.54; 262
sete lagoas; -19.46; -44.25; 237
divinópolis; -20.14; -44.88; 235
poços de caldas; -21.79; -46.56; 167
patos de minas; -18.58; -46.52; 152
pouso alegre; -22.23; -45.94; 149
teófilo otoni; -17.86; -41.51; 141
barbacena; -21.23; -43.77; 137
varginha; -21.55; -45.43; 135
conselheiro lafaiete; -20.66; -43.79; 128
itabira; -19.62; -43.23; 120
araguari; -18.65; -48.19; 117
passos; -20.72; -46.61; 114
ubá; -21.12; -42.94; 114
coronel fabriciano; -19.52; -42.63; 109
muriaé; -21.13; -42.37; 109
araxá; -19.59; -46.94; 106
ituiutaba; -18.97; -49.46; 104
lavras; -21.25; -45.00; 103
nova serrana; -19.88; -44.98; 102
itajubá; -22.43; -45.45; 97
pará de minas; -19.86; -44.61; 93
itaúna; -20.07; -44.58; 92
paracatu; -17.22; -46.87; 92
caratinga; -19.79; -42.14; 92
manhuaçu; -20.26; -42.03; 90
patrocínio; -18.94; -46.99; 90
são joão del rei; -21.14; -44.26; 90
timóteo; -19.58; -42.64; 89
unaí; -16.36; -46.91; 84
curvelo; -18.76; -44.43; 80
joão monlevade; -19.81; -43.17; 80
alfenas; -21.43; -45.95; 79
três corações; -21.70; -45.25; 79
viçosa; -20.75; -42.88; 78
cataguases; -21.39; -42.70; 74
ouro preto; -20.39; -43.50; 74
janaúba; -15.80; -43.31; 71
são sebastião do paraíso; -20.92; -46.99; 70
januária; -15.49; -44.36; 67
formiga; -20.46; -45.43; 67
ponte nova; -20.42; -42.91; 60
frutal; -20.02; -48.94; 59
três pontas; -21.37; -45.51; 56
pirapora; -17.35; -44.94; 56
campo belo; -20.90; -45.28; 54
leopoldina; -21.53; -42.64; 52
guaxupé; -21.31; -46.71; 51
bom despacho; -19.74; -45.25; 50
diamantina; -18.25; -43.60; 48
monte carmelo; -18.72; -47.50; 48
joão pinheiro; -17.74; -46.17; 47
são lourenço; -22.12; -45.05; 45
santa rita do sapucaí; -22.25; -45.70; 43
machado; -21.67; -45.92; 42
almenara; -16.18; -40.69; 41
oliveira; -20.70; -44.83; 41
nanuque; -17.84; -40.35; 41
salinas; -16.17; -42.29; 41
andradas; -22.07; -46.57; 40
arcos; -20.28; -45.54; 39
capelinha; -17.69; -42.52; 38
extrema; -22.85; -46.32; 36
piumhi; -20.47; -45.96; 35
carangola; -20.73; -42.03; 33
ouro fino; -22.28; -46.37; 33
espinosa; -14.93; -42.82; 32
cambuí; -22.61; -46.06; 29
jacutinga; -22.29; -46.61; 25
caxambu; -21.98; -44.93; 22
muzambinho; -21.37; -46.52; 21
borda da mata; -22.27; -46.17; 19
""",
"RS": """
porto alegre; -30.03; -51.23; 1479; 90000-91999
canoas; -29.92; -51.18; 344
gravataí; -29.94; -50.99; 281
viamão; -30.08; -51.02; 254
alvorada; -29.99; -51.08; 209
cachoeirinha; -29.95; -51.09; 130
esteio; -29.86; -51.18; 83
sapucaia do sul; -29.84; -51.15; 141
são leopoldo; -29.76; -51.15; 234
novo hamburgo; -29.68; -51.13; 246
estância velha; -29.65; -51.17; 48
portão; -29.70; -51.24; 37
campo bom; -29.68; -51.05; 67
sapiranga; -29.64; -51.00; 81
dois irmãos; -29.58; -51.08; 31
parobé; -29.63; -50.83; 55
taquara; -29.65; -50.78; 57
igrejinha; -29.57; -50.79; 36
guaíba; -30.11; -51.33; 98
eldorado do sul; -30.08; -51.62; 40
charqueadas; -29.96; -51.63; 40
montenegro; -29.69; -51.46; 65
caxias do sul; -29.17; -51.18; 504
farroupilha; -29.22; -51.35; 71
flores da cunha; -29.03; -51.18; 30
bento gonçalves; -29.17; -51.52; 120
garibaldi; -29.26; -51.53; 34
nova prata; -28.78; -51.61; 27
gramado; -29.37; -50.87; 36
canela; -29.36; -50.81; 44
vacaria; -28.51; -50.93; 66
tramandaí; -29.98; -50.13; 49
osório; -29.89; -50.27; 45
capão da canoa; -29.75; -50.01; 48
torres; -29.34; -49.73; 38
lajeado; -29.47; -51.96; 84
estrela; -29.50; -51.95; 33
teutônia; -29.45; -51.81; 32
encantado; -29.24; -51.87; 22
venâncio aires; -29.61; -52.19; 70
santa cruz do sul; -29.72; -52.43; 129
cachoeira do sul; -30.04; -52.89; 83
santa maria; -29.69; -53.81; 280
pelotas; -31.77; -52.34; 342
rio grande; -32.03; -52.10; 210
canguçu; -31.39; -52.68; 56
camaquã; -30.85; -51.81; 66
jaguarão; -32.57; -53.38; 27
bagé; -31.33; -54.11; 121
são gabriel; -30.34; -54.32; 62
rosário do sul; -30.26; -54.92; 40
santana do livramento; -30.89; -55.53; 77
alegrete; -29.78; -55.79; 73
uruguaiana; -29.76; -57.09; 127
são borja; -28.66; -56.00; 61
santiago; -29.19; -54.87; 49
são luiz gonzaga; -28.41; -54.96; 34
santo ângelo; -28.30; -54.26; 76
santa rosa; -27.87; -54.48; 72
três passos; -27.46; -53.93; 24
ijuí; -28.39; -53.91; 83
panambi; -28.29; -53.50; 43
cruz alta; -28.64; -53.61; 62
carazinho; -28.28; -52.79; 62
passo fundo; -28.26; -52.41; 201
erechim; -27.63; -52.27; 105
frederico westphalen; -27.36; -53.40; 31
""",
"PR": """
curitiba; -25.43; -49.27; 1917; 80000-82999
são josé dos pinhais; -25.53; -49.21; 317
colombo; -25.29; -49.22; 240
araucária; -25.59; -49.41; 141
pinhais; -25.44; -49.19; 130
campo largo; -25.46; -49.53; 130
almirante tamandaré; -25.32; -49.31; 117
piraquara; -25.44; -49.06; 112
fazenda rio grande; -25.66; -49.31; 98
quatro barras; -25.37; -49.08; 23
campina grande do sul; -25.31; -49.06; 43
mandirituba; -25.78; -49.33; 26
lapa; -25.77; -49.72; 48
rio negro; -26.10; -49.80; 34
são mateus do sul; -25.87; -50.38; 46
paranaguá; -25.52; -48.51; 153
matinhos; -25.82; -48.54; 34
guaratuba; -25.88; -48.58; 36
pontal do paraná; -25.67; -48.51; 27
ponta grossa; -25.09; -50.16; 348
castro; -24.79; -50.01; 71
telêmaco borba; -24.32; -50.62; 78
irati; -25.47; -50.65; 61
prudentópolis; -25.21; -50.98; 52
guarapuava; -25.39; -51.46; 180
união da vitória; -26.23; -51.09; 57
palmas; -26.48; -51.99; 50
pato branco; -26.23; -52.67; 82
francisco beltrão; -26.08; -53.05; 90
dois vizinhos; -25.75; -53.06; 40
laranjeiras do sul; -25.41; -52.41; 32
pitanga; -24.76; -51.76; 32
cascavel; -24.96; -53.46; 325
toledo; -24.72; -53.74; 138
marechal cândido rondon; -24.56; -54.06; 52
palotina; -24.28; -53.84; 32
assis chateaubriand; -24.42; -53.52; 33
guaíra; -24.08; -54.26; 33
santa helena; -24.86; -54.33; 26
medianeira; -25.30; -54.09; 46
foz do iguaçu; -25.55; -54.59; 258
campo mourão; -24.05; -52.38; 94
ivaiporã; -24.25; -51.68; 32
umuarama; -23.77; -53.33; 110
cianorte; -23.66; -52.61; 82
paranavaí; -23.07; -52.47; 88
loanda; -22.92; -53.14; 23
nova esperança; -23.18; -52.21; 28
colorado; -22.84; -51.97; 24
maringá; -23.42; -51.94; 417
sarandi; -23.44; -51.87; 95
paiçandu; -23.46; -52.05; 40
marialva; -23.49; -51.79; 35
mandaguari; -23.55; -51.67; 34
jandaia do sul; -23.60; -51.64; 21
apucarana; -23.55; -51.46; 134
arapongas; -23.42; -51.42; 121
astorga; -23.23; -51.67; 26
rolândia; -23.31; -51.37; 66
cambé; -23.28; -51.28; 106
londrina; -23.31; -51.16; 564
ibiporã; -23.27; -51.05; 54
cornélio procópio; -23.18; -50.65; 47
bandeirantes; -23.11; -50.37; 32
santo antônio da platina; -23.30; -50.08; 46
jacarezinho; -23.16; -49.97; 39
ibaiti; -23.85; -50.19; 31
""",
"SC": """
florianópolis; -27.59; -48.55; 492; 88000-88099
são josé; -27.61; -48.63; 242
palhoça; -27.64; -48.67; 168
biguaçu; -27.49; -48.66; 67
santo amaro da imperatriz; -27.69; -48.78; 22
tijucas; -27.24; -48.63; 38
itapema; -27.09; -48.61; 63
balneário camboriú; -26.99; -48.63; 139
camboriú; -27.02; -48.65; 82
itajaí; -26.91; -48.66; 215
navegantes; -26.90; -48.65; 79
penha; -26.77; -48.65; 32
barra velha; -26.63; -48.68; 28
brusque; -27.10; -48.92; 132
gaspar; -26.93; -48.96; 69
blumenau; -26.92; -49.07; 352
indaial; -26.90; -49.23; 70
timbó; -26.82; -49.27; 43
pomerode; -26.74; -49.18; 33
rio do sul; -27.21; -49.64; 70
ituporanga; -27.41; -49.60; 24
joinville; -26.30; -48.85; 583
são francisco do sul; -26.24; -48.64; 52
guaramirim; -26.47; -49.00; 43
jaraguá do sul; -26.49; -49.07; 174
são bento do sul; -26.25; -49.38; 84
rio negrinho; -26.25; -49.52; 42
mafra; -26.11; -49.81; 56
canoinhas; -26.18; -50.39; 54
porto união; -26.24; -51.08; 35
caçador; -26.78; -51.01; 78
fraiburgo; -27.03; -50.92; 36
videira; -27.01; -51.15; 52
joaçaba; -27.17; -51.50; 30
herval d'oeste; -27.19; -51.49; 22
capinzal; -27.34; -51.61; 22
campos novos; -27.40; -51.23; 35
curitibanos; -27.28; -50.58; 39
lages; -27.82; -50.33; 157
são joaquim; -28.29; -49.93; 27
concórdia; -27.23; -52.03; 73
chapecó; -27.10; -52.62; 216
xaxim; -26.96; -52.54; 28
xanxerê; -26.88; -52.40; 51
maravilha; -26.77; -53.17; 25
são miguel do oeste; -26.73; -53.52; 40
tubarão; -28.47; -49.01; 105
laguna; -28.48; -48.78; 45
imbituba; -28.24; -48.67; 44
braço do norte; -28.27; -49.17; 32
orleans; -28.36; -49.29; 22
urussanga; -28.52; -49.32; 21
criciúma; -28.68; -49.37; 213
içara; -28.71; -49.30; 57
forquilhinha; -28.75; -49.47; 26
araranguá; -28.94; -49.49; 67
sombrio; -29.11; -49.63; 30
""",
"BA": """
salvador; -12.97; -38.50; 2857; 40000-42499
lauro de freitas; -12.89; -38.33; 195
camaçari; -12.70; -38.32; 293
simões filho; -12.79; -38.40; 135
candeias; -12.67; -38.55; 87
dias d'ávila; -12.61; -38.30; 80
feira de santana; -12.27; -38.97; 609
alagoinhas; -12.14; -38.42; 151
santo amaro; -12.55; -38.71; 60
cruz das almas; -12.67; -39.10; 63
santo antônio de jesus; -12.97; -39.26; 101
valença; -13.37; -39.07; 97
serrinha; -11.66; -39.01; 80
conceição do coité; -11.56; -39.28; 67
ribeira do pombal; -10.83; -38.54; 53
euclides da cunha; -10.51; -39.01; 60
paulo afonso; -9.41; -38.21; 117
juazeiro; -9.41; -40.50; 216
senhor do bonfim; -10.46; -40.19; 79
jacobina; -11.18; -40.52; 80
itaberaba; -12.53; -40.31; 64
irecê; -11.30; -41.86; 72
xique-xique; -10.82; -42.73; 46
seabra; -12.42; -41.77; 44
barreiras; -12.15; -45.00; 155
luís eduardo magalhães; -12.10; -45.79; 87
santa maria da vitória; -13.39; -44.19; 40
bom jesus da lapa; -13.25; -43.42; 69
guanambi; -14.22; -42.78; 84
caetité; -14.07; -42.48; 51
brumado; -14.20; -41.67; 70
vitória da conquista; -14.86; -40.84; 339
jequié; -13.86; -40.08; 155
itapetinga; -15.25; -40.25; 76
itabuna; -14.79; -39.28; 204
ilhéus; -14.79; -39.05; 162
eunápolis; -16.38; -39.58; 113
porto seguro; -16.45; -39.06; 148
teixeira de freitas; -17.54; -39.74; 160
mucuri; -18.09; -39.55; 41
""",
"DF": """
brasília; -15.79; -47.88; 1500
ceilândia; -15.82; -48.11; 480
samambaia; -15.88; -48.09; 250
taguatinga; -15.83; -48.06; 220
planaltina; -15.62; -47.65; 190
águas claras; -15.84; -48.03; 150
recanto das emas; -15.91; -48.07; 150
gama; -16.01; -48.06; 140
guará; -15.82; -47.98; 140
santa maria; -16.01; -48.00; 130
são sebastião; -15.90; -47.78; 100
sobradinho; -15.65; -47.79; 85
riacho fundo; -15.88; -48.02; 80
paranoá; -15.77; -47.78; 60
brazlândia; -15.68; -48.20; 55
núcleo bandeirante; -15.87; -47.97; 25
""",
"ES": """
vitória; -20.32; -40.34; 358; 29000-29099
vila velha; -20.33; -40.29; 494
serra; -20.13; -40.31; 507
cariacica; -20.26; -40.42; 384
viana; -20.39; -40.50; 76
guarapari; -20.67; -40.50; 124
domingos martins; -20.36; -40.66; 33
santa maria de jetibá; -20.03; -40.74; 40
venda nova do imigrante; -20.33; -41.13; 25
afonso cláudio; -20.08; -41.12; 31
castelo; -20.60; -41.18; 37
cachoeiro de itapemirim; -20.85; -41.11; 208
alegre; -20.76; -41.53; 30
marataízes; -21.04; -40.82; 38
aracruz; -19.82; -40.27; 100
linhares; -19.39; -40.07; 173
colatina; -19.54; -40.63; 122
são gabriel da palha; -19.02; -40.54; 37
nova venécia; -18.71; -40.40; 50
barra de são francisco; -18.75; -40.89; 44
são mateus; -18.72; -39.86; 130
conceição da barra; -18.59; -39.73; 31
""",
"GO": """
goiânia; -16.68; -49.25; 1495; 74000-74899
aparecida de goiânia; -16.82; -49.24; 565
senador canedo; -16.71; -49.09; 112
trindade; -16.65; -49.49; 127
inhumas; -16.36; -49.50; 52
anápolis; -16.33; -48.95; 381
goianésia; -15.32; -49.12; 67
ceres; -15.31; -49.60; 22
uruaçu; -14.52; -49.14; 40
niquelândia; -14.47; -48.46; 46
porangatu; -13.44; -49.15; 45
formosa; -15.54; -47.33; 121
águas lindas de goiás; -15.76; -48.28; 207
santo antônio do descoberto; -15.94; -48.26; 73
novo gama; -16.06; -48.04; 113
valparaíso de goiás; -16.07; -47.98; 168
cidade ocidental; -16.08; -47.93; 70
luziânia; -16.25; -47.95; 208
pires do rio; -17.30; -48.28; 31
caldas novas; -17.74; -48.63; 90
catalão; -18.17; -47.95; 106
morrinhos; -17.73; -49.10; 45
itumbiara; -18.42; -49.22; 103
quirinópolis; -18.45; -50.45; 49
rio verde; -17.80; -50.93; 229
jataí; -17.88; -51.72; 100
mineiros; -17.57; -52.55; 63
iporá; -16.44; -51.12; 31
goiás; -15.93; -50.14; 24
""",
"PE": """
recife; -8.05; -34.88; 1637; 50000-52999
jaboatão dos guararapes; -8.11; -35.01; 698
olinda; -8.01; -34.86; 392
paulista; -7.94; -34.87; 331
camaragibe; -8.02; -34.98; 157
são lourenço da mata; -8.00; -35.02; 112
abreu e lima; -7.91; -34.90; 99
igarassu; -7.83; -34.91; 117
cabo de santo agostinho; -8.29; -35.03; 206
ipojuca; -8.40; -35.06; 95
escada; -8.36; -35.22; 68
goiana; -7.56; -35.00; 79
vitória de santo antão; -8.12; -35.29; 138
carpina; -7.85; -35.25; 83
palmares; -8.68; -35.59; 63
gravatá; -8.20; -35.56; 84
bezerros; -8.23; -35.75; 60
caruaru; -8.28; -35.97; 361
toritama; -8.01; -36.06; 45
santa cruz do capibaribe; -7.96; -36.20; 108
surubim; -7.83; -35.75; 64
belo jardim; -8.34; -36.42; 76
pesqueira; -8.36; -36.70; 67
garanhuns; -8.89; -36.49; 140
arcoverde; -8.42; -37.06; 73
serra talhada; -7.99; -38.30; 86
salgueiro; -8.07; -39.12; 60
ouricuri; -7.88; -40.08; 69
araripina; -7.58; -40.50; 84
petrolina; -9.39; -40.50; 344
""",
"CE": """
fortaleza; -3.73; -38.52; 2643; 60000-61599
caucaia; -3.74; -38.65; 361
maracanaú; -3.88; -38.63; 225
maranguape; -3.89; -38.68; 128
pacatuba; -3.98; -38.62; 82
aquiraz; -3.90; -38.39; 80
horizonte; -4.10; -38.49; 66
pacajus; -4.17; -38.46; 71
cascavel; -4.13; -38.24; 71
aracati; -4.56; -37.77; 74
russas; -4.94; -37.98; 77
limoeiro do norte; -5.15; -38.10; 59
morada nova; -5.11; -38.37; 62
quixadá; -4.97; -39.02; 87
quixeramobim; -5.20; -39.29; 80
canindé; -4.36; -39.31; 77
itapipoca; -3.49; -39.58; 129
acaraú; -2.89; -40.12; 62
camocim; -2.90; -40.84; 63
sobral; -3.69; -40.35; 206
tianguá; -3.73; -40.99; 75
crateús; -5.18; -40.67; 75
tauá; -6.00; -40.29; 59
iguatu; -6.36; -39.30; 102
icó; -6.40; -38.86; 68
juazeiro do norte; -7.21; -39.32; 271
crato; -7.23; -39.41; 131
barbalha; -7.31; -39.30; 60
""",
"PA": """
belém; -1.46; -48.49; 1485; 66000-66999
ananindeua; -1.37; -48.37; 525
marituba; -1.36; -48.34; 129
barcarena; -1.51; -48.62; 124
castanhal; -1.30; -47.93; 198
abaetetuba; -1.72; -48.88; 157
salinópolis; -0.61; -47.36; 40
capanema; -1.20; -47.18; 67
bragança; -1.05; -46.77; 126
tomé-açu; -2.42; -48.15; 63
paragominas; -2.99; -47.35; 110
tailândia; -2.95; -48.95; 104
cametá; -2.24; -49.50; 136
tucuruí; -3.77; -49.67; 113
breves; -1.68; -50.48; 101
marabá; -5.37; -49.12; 275
parauapebas; -6.07; -49.90; 203
redenção; -8.03; -50.03; 83
conceição do araguaia; -8.26; -49.26; 47
são félix do xingu; -6.64; -51.99; 125
altamira; -3.20; -52.21; 113
santarém; -2.44; -54.71; 304
óbidos; -1.91; -55.52; 51
oriximiná; -1.77; -55.87; 72
itaituba; -4.28; -55.98; 101
""",
"MT": """
cuiabá; -15.60; -56.10; 607; 78000-78109
várzea grande; -15.65; -56.13; 282
rondonópolis; -16.47; -54.64; 228
primavera do leste; -15.56; -54.29; 60
campo verde; -15.55; -55.16; 43
barra do garças; -15.89; -52.26; 60
água boa; -14.05; -52.16; 25
confresa; -10.64; -51.57; 31
vila rica; -10.01; -51.12; 26
sinop; -11.86; -55.51; 139
sorriso; -12.55; -55.71; 87
lucas do rio verde; -13.05; -55.91; 63
nova mutum; -13.83; -56.08; 44
colíder; -10.81; -55.46; 33
peixoto de azevedo; -10.22; -54.98; 34
guarantã do norte; -9.79; -54.91; 35
alta floresta; -9.87; -56.09; 51
juara; -11.26; -57.52; 34
juína; -11.38; -58.74; 40
campo novo do parecis; -13.67; -57.89; 34
tangará da serra; -14.62; -57.49; 101
cáceres; -16.07; -57.68; 93
mirassol d'oeste; -15.68; -58.10; 27
pontes e lacerda; -15.23; -59.34; 44
""",
"MA": """
são luís; -2.53; -44.30; 1094; 65000-65099
são josé de ribamar; -2.56; -44.05; 177
paço do lumiar; -2.53; -44.11; 122
itapecuru mirim; -3.39; -44.36; 68
barreirinhas; -2.75; -42.83; 62
chapadinha; -3.74; -43.36; 79
pinheiro; -2.52; -45.08; 82
viana; -3.22; -44.99; 51
santa inês; -3.67; -45.38; 89
bacabal; -4.23; -44.78; 104
coroatá; -4.13; -44.12; 65
codó; -4.46; -43.89; 122
caxias; -4.86; -43.36; 164
timon; -5.09; -42.84; 167
pedreiras; -4.57; -44.60; 39
presidente dutra; -5.29; -44.49; 47
barra do corda; -5.50; -45.25; 87
grajaú; -5.82; -46.14; 69
açailândia; -4.95; -47.50; 111
imperatriz; -5.53; -47.49; 258
estreito; -6.56; -47.44; 42
carolina; -7.33; -47.47; 24
balsas; -7.53; -46.04; 94
""",
"MS": """
campo grande; -20.47; -54.62; 885; 79000-79129
sidrolândia; -20.93; -54.96; 56
rio brilhante; -21.80; -54.55; 37
maracaju; -21.61; -55.17; 46
dourados; -22.22; -54.81; 220
caarapó; -22.63; -54.82; 29
ponta porã; -22.54; -55.73; 92
amambai; -23.10; -55.23; 39
naviraí; -23.06; -54.19; 54
ivinhema; -22.30; -53.82; 23
nova andradina; -22.23; -53.34; 54
três lagoas; -20.79; -51.70; 119
aparecida do taboado; -20.09; -51.09; 25
paranaíba; -19.68; -51.19; 41
cassilândia; -19.11; -51.73; 22
chapadão do sul; -18.79; -52.62; 24
coxim; -18.51; -54.76; 33
são gabriel do oeste; -19.39; -54.57; 26
aquidauana; -20.47; -55.79; 48
miranda; -20.24; -56.38; 28
bonito; -21.13; -56.48; 21
jardim; -21.48; -56.14; 26
corumbá; -19.01; -57.65; 111
""",
"PB": """
joão pessoa; -7.12; -34.86; 800; 58000-58099
cabedelo; -6.98; -34.84; 66
bayeux; -7.13; -34.93; 96
santa rita; -7.11; -34.98; 136
sapé; -7.09; -35.23; 52
mamanguape; -6.84; -35.13; 45
guarabira; -6.85; -35.49; 58
itabaiana; -7.33; -35.33; 24
campina grande; -7.23; -35.88; 410
esperança; -7.02; -35.86; 33
queimadas; -7.36; -35.90; 44
monteiro; -7.89; -37.12; 33
patos; -7.02; -37.28; 107
pombal; -6.77; -37.80; 32
catolé do rocha; -6.34; -37.75; 30
sousa; -6.76; -38.23; 69
cajazeiras; -6.89; -38.56; 62
""",
"PI": """
teresina; -5.09; -42.80; 861; 64000-64099
altos; -5.04; -42.46; 40
josé de freitas; -4.76; -42.58; 39
união; -4.59; -42.86; 44
campo maior; -4.83; -42.17; 46
barras; -4.24; -42.29; 47
esperantina; -3.90; -42.23; 39
piripiri; -4.27; -41.78; 63
pedro ii; -4.42; -41.46; 38
parnaíba; -2.91; -41.78; 153
picos; -7.08; -41.47; 78
oeiras; -7.02; -42.13; 37
floriano; -6.77; -43.02; 60
uruçuí; -7.23; -44.56; 21
são raimundo nonato; -9.01; -42.70; 34
bom jesus; -9.07; -44.36; 25
corrente; -10.44; -45.16; 26
""",
"RN": """
natal; -5.79; -35.21; 878; 59000-59159
parnamirim; -5.92; -35.26; 261
são gonçalo do amarante; -5.79; -35.33; 101
macaíba; -5.86; -35.35; 80
extremoz; -5.71; -35.31; 28
ceará-mirim; -5.63; -35.43; 73
são josé de mipibu; -6.08; -35.24; 44
nova cruz; -6.48; -35.43; 38
joão câmara; -5.54; -35.82; 35
santa cruz; -6.23; -36.02; 39
currais novos; -6.26; -36.52; 44
caicó; -6.46; -37.10; 68
açu; -5.58; -36.91; 58
mossoró; -5.19; -37.34; 295
apodi; -5.66; -37.80; 36
pau dos ferros; -6.11; -38.21; 30
""",
"AL": """
maceió; -9.67; -35.74; 1013; 57000-57099
rio largo; -9.48; -35.85; 75
pilar; -9.60; -35.96; 34
marechal deodoro; -9.71; -35.90; 51
são luís do quitunde; -9.32; -35.56; 34
atalaia; -9.50; -36.02; 47
união dos palmares; -9.16; -36.02; 65
são miguel dos campos; -9.78; -36.09; 61
campo alegre; -9.78; -36.35; 56
coruripe; -10.13; -36.18; 57
penedo; -10.29; -36.59; 63
arapiraca; -9.75; -36.66; 232
palmeira dos índios; -9.41; -36.63; 73
santana do ipanema; -9.37; -37.25; 47
delmiro gouveia; -9.39; -37.99; 52
""",
"SE": """
aracaju; -10.91; -37.07; 648; 49000-49099
barra dos coqueiros; -10.90; -37.04; 29
nossa senhora do socorro; -10.85; -37.13; 183
são cristóvão; -11.01; -37.21; 90
laranjeiras; -10.81; -37.17; 29
capela; -10.50; -37.05; 33
propriá; -10.21; -36.84; 29
itabaiana; -10.69; -37.43; 95
lagarto; -10.92; -37.65; 104
simão dias; -10.74; -37.81; 40
estância; -11.27; -37.44; 69
itabaianinha; -11.27; -37.79; 41
tobias barreto; -11.18; -37.99; 52
nossa senhora da glória; -10.22; -37.42; 37
poço redondo; -9.81; -37.68; 34
canindé de são francisco; -9.64; -37.79; 29
""",
"TO": """
palmas; -10.18; -48.33; 292; 77000-77249
porto nacional; -10.71; -48.42; 53
paraíso do tocantins; -10.18; -48.88; 51
miracema do tocantins; -9.57; -48.39; 20
guaraí; -8.83; -48.51; 25
colinas do tocantins; -8.06; -48.48; 35
araguaína; -7.19; -48.21; 180
tocantinópolis; -6.33; -47.42; 23
araguatins; -5.65; -48.12; 35
augustinópolis; -5.47; -47.89; 18
gurupi; -11.73; -49.07; 86
formoso do araguaia; -11.80; -49.53; 18
dianópolis; -11.63; -46.82; 22
taguatinga; -12.40; -46.43; 16
""",
"RO": """
porto velho; -8.76; -63.90; 520; 76800-76834
candeias do jamari; -8.79; -63.70; 26
guajará-mirim; -10.78; -65.34; 46
nova mamoré; -10.41; -65.33; 30
buritis; -10.21; -63.83; 39
ariquemes; -9.91; -63.04; 107
machadinho d'oeste; -9.44; -61.98; 39
jaru; -10.44; -62.47; 52
ouro preto do oeste; -10.72; -62.26; 37
ji-paraná; -10.88; -61.95; 128
presidente médici; -11.18; -61.90; 20
cacoal; -11.44; -61.45; 85
rolim de moura; -11.73; -61.78; 55
pimenta bueno; -11.67; -61.19; 38
espigão d'oeste; -11.53; -61.01; 32
vilhena; -12.74; -60.15; 102
colorado do oeste; -13.12; -60.54; 16
cerejeiras; -13.19; -60.81; 16
""",
"AM": """
manaus; -3.12; -60.02; 2145; 69000-69099
iranduba; -3.28; -60.19; 47
manacapuru; -3.30; -60.62; 97
presidente figueiredo; -2.05; -60.02; 36
itacoatiara; -3.14; -58.44; 99
autazes; -3.58; -59.13; 38
borba; -4.39; -59.59; 40
maués; -3.38; -57.72; 63
parintins; -2.63; -56.74; 114
coari; -4.08; -63.14; 85
tefé; -3.35; -64.71; 60
manicoré; -5.81; -61.30; 54
humaitá; -7.51; -63.02; 55
lábrea; -7.26; -64.80; 45
boca do acre; -8.75; -67.40; 34
eirunepé; -6.66; -69.87; 35
benjamin constant; -4.38; -70.03; 42
tabatinga; -4.25; -69.94; 64
barcelos; -0.97; -62.92; 27
são gabriel da cachoeira; -0.13; -67.09; 45
""",
"AC": """
rio branco; -9.97; -67.81; 401; 69900-69923
senador guiomard; -10.15; -67.74; 23
plácido de castro; -10.34; -67.19; 20
xapuri; -10.65; -68.50; 19
brasiléia; -11.01; -68.74; 26
epitaciolândia; -11.02; -68.73; 18
sena madureira; -9.07; -68.66; 45
feijó; -8.16; -70.35; 34
tarauacá; -8.16; -70.77; 42
cruzeiro do sul; -7.63; -72.67; 88
rodrigues alves; -7.74; -72.65; 19
mâncio lima; -7.61; -72.90; 18
""",
"AP": """
macapá; 0.03; -51.07; 494; 68900-68914
santana; -0.06; -51.17; 118
mazagão; -0.12; -51.29; 21
vitória do jari; -0.94; -52.42; 15
laranjal do jari; -0.80; -52.45; 50
porto grande; 0.71; -51.41; 21
pedra branca do amapari; 0.78; -51.95; 16
tartarugalzinho; 1.51; -50.91; 17
amapá; 2.05; -50.79; 9
calçoene; 2.50; -50.95; 11
oiapoque; 3.84; -51.83; 26
""",
"RR": """
boa vista; 2.82; -60.67; 375; 69300-69339
cantá; 2.61; -60.60; 18
mucajaí; 2.44; -60.91; 17
alto alegre; 2.99; -61.31; 16
iracema; 2.18; -61.04; 10
caracaraí; 1.82; -61.13; 21
rorainópolis; 0.94; -60.43; 29
são joão da baliza; 0.95; -59.91; 8
caroebe; 0.88; -59.70; 9
bonfim; 3.36; -59.83; 12
normandia; 3.88; -59.62; 10
pacaraima; 4.48; -61.15; 12
""",
}
# fmt: on
