"""The BPMN a new SOP starts from: one lane, a start, one user task with its mutu baku, an end."""
from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from .errors import FormError

# A process id is an XML name; keep to letters, digits and _ . - so it also reads well in URLs.
KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,199}")

_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{key}" targetNamespace="http://alur.local/sop" exporter="Alur" exporterVersion="1">
  <bpmn:collaboration id="Collaboration_{key}">
    <bpmn:participant id="Participant_{key}" name={name} processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name={name} isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="sop.nomor" value="" />
        <camunda:property name="sop.dasarHukum" value="" />
        <camunda:property name="sop.kualifikasiPelaksana" value="" />
        <camunda:property name="sop.keterkaitan" value="" />
        <camunda:property name="sop.peralatan" value="" />
        <camunda:property name="sop.peringatan" value="" />
        <camunda:property name="sop.pencatatan" value="" />
        <camunda:property name="sop.disahkanOleh" value="" />
        <camunda:property name="sla.batasWaktu" value="PT24H" />
        <camunda:property name="sla.kalender" value="24x7" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:laneSet id="LaneSet_{key}">
      <bpmn:lane id="Lane_front_office" name="Front Office">
        <bpmn:flowNodeRef>mulai</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>terima_berkas</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>selesai</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="mulai" name="Permohonan diajukan">
      <bpmn:outgoing>Flow_mulai</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="terima_berkas" name="Menerima berkas permohonan">
      <bpmn:documentation>Terima berkas dari pemohon dan periksa kelengkapannya.</bpmn:documentation>
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="mutu.kelengkapan" value="Formulir permohonan" />
          <camunda:property name="mutu.waktu" value="PT30M" />
          <camunda:property name="mutu.output" value="Berkas diterima" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_mulai</bpmn:incoming>
      <bpmn:outgoing>Flow_selesai</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="selesai" name="Selesai">
      <bpmn:incoming>Flow_selesai</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_mulai" sourceRef="mulai" targetRef="terima_berkas" />
    <bpmn:sequenceFlow id="Flow_selesai" sourceRef="terima_berkas" targetRef="selesai" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_{key}">
    <bpmndi:BPMNPlane id="Plane_{key}" bpmnElement="Collaboration_{key}">
      <bpmndi:BPMNShape id="Participant_{key}_di" bpmnElement="Participant_{key}" isHorizontal="true">
        <dc:Bounds x="120" y="80" width="560" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_front_office_di" bpmnElement="Lane_front_office" isHorizontal="true">
        <dc:Bounds x="150" y="80" width="530" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="mulai_di" bpmnElement="mulai">
        <dc:Bounds x="212" y="162" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="terima_berkas_di" bpmnElement="terima_berkas">
        <dc:Bounds x="330" y="140" width="120" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="selesai_di" bpmnElement="selesai">
        <dc:Bounds x="552" y="162" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_mulai_di" bpmnElement="Flow_mulai">
        <di:waypoint x="248" y="180" />
        <di:waypoint x="330" y="180" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_selesai_di" bpmnElement="Flow_selesai">
        <di:waypoint x="450" y="180" />
        <di:waypoint x="552" y="180" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def check_key_and_name(key: str, name: str) -> tuple[str, str]:
    """Return the key and name stripped, or raise FormError saying what is wrong."""
    key, name = (key or "").strip(), " ".join((name or "").split())
    fields = {}
    if not KEY_PATTERN.fullmatch(key):
        fields["key"] = ("use 1 to 200 letters, digits, _ . or -, starting with a letter or _ "
                         "(e.g. izin_reklame)")
    if not name:
        fields["name"] = "give the SOP a name"
    elif len(name) > 500:
        fields["name"] = "at most 500 characters"
    if fields:
        raise FormError(fields)
    return key, name


def new_sop_bpmn(key: str, name: str) -> bytes:
    """The template BPMN for a new SOP with this process id and name."""
    key, name = check_key_and_name(key, name)
    return _TEMPLATE.format(key=key, name=quoteattr(name)).encode("utf-8")
