"""What the Dublin Core view of each ISO 19139 fixture must hold (CSW ISO AP 1.0 core returnables, completed as
pycsw maps them), read with ElementTree, independently of the catalogue's own parser. One JSON object per file."""
import json
import sys
from xml.etree import ElementTree as ET

NS = {'gmd': 'http://www.isotc211.org/2005/gmd', 'gco': 'http://www.isotc211.org/2005/gco', 'srv': 'http://www.isotc211.org/2005/srv',
      'gmx': 'http://www.isotc211.org/2005/gmx'}


def norm(s):
    return ' '.join((s or '').split())


def char(e):
    """The value of a CharacterString property: its gco:CharacterString or gmx:Anchor text."""
    if e is None:
        return None
    for path in ('gco:CharacterString', 'gmx:Anchor'):
        v = e.find(path, NS)
        if v is not None and norm(v.text):
            return norm(v.text)
    return None


def code(e):
    return e.get('codeListValue') or norm(e.text)


out = {}
for path in sys.argv[1:]:
    t = ET.parse(path).getroot()
    ident = char(t.find('gmd:fileIdentifier', NS))
    dates = {}
    for d in t.findall('gmd:identificationInfo/*/gmd:citation/*/gmd:date/gmd:CI_Date', NS):
        kind = code(d.find('gmd:dateType/gmd:CI_DateTypeCode', NS))
        v = d.find('gmd:date/*', NS)
        if v is not None and kind not in dates:
            dates[kind] = norm(v.text)[:10]
    res_lang = [code(e) for e in t.findall('gmd:identificationInfo/*/gmd:language/gmd:LanguageCode', NS)]
    # A language written as text ('eng; CAN', 'fre') is its ISO 639-2 code.
    md_lang = [code(e) for e in t.findall('gmd:language/gmd:LanguageCode', NS)] + [char(e)[:3].lower() for e in t.findall('gmd:language', NS) if char(e)]
    constraints = t.findall('gmd:identificationInfo/*/gmd:resourceConstraints/*', NS)
    out[ident] = {
        'formats': [v for v in (char(e) for e in t.findall('gmd:distributionInfo/gmd:MD_Distribution/gmd:distributionFormat/gmd:MD_Format/gmd:name', NS)) if v],
        'creation': dates.get('creation'),
        'publication': dates.get('publication'),
        'revision': dates.get('revision'),
        'languages': res_lang or md_lang[:1],
        'useLimitations': [v for v in (char(e) for c in constraints for e in c.findall('gmd:useLimitation', NS)) if v],
        'classification': [code(e) for c in constraints for e in c.findall('gmd:classification/gmd:MD_ClassificationCode', NS)],
        'operatesOn': sorted({e.get('uuidref') for e in t.findall('gmd:identificationInfo/srv:SV_ServiceIdentification/srv:operatesOn', NS) if e.get('uuidref')}),
        'parent': char(t.find('gmd:parentIdentifier', NS)),
    }
print(json.dumps(out))
