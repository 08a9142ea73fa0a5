from django.urls import path

from integrations import views

app_name = "integrations"
urlpatterns = [
    path("messages/", views.message_list, name="message_list"),
    path("messages/outbox/<int:pk>/", views.outbox_detail, name="outbox_detail"),
    path("messages/outbox/<int:pk>/replay/", views.outbox_replay_view, name="outbox_replay"),
    path("messages/inbox/<int:pk>/", views.inbox_detail, name="inbox_detail"),
    path("messages/inbox/<int:pk>/replay/", views.inbox_replay_view, name="inbox_replay"),
]
